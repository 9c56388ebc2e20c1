import path from 'node:path';

import { InvalidArgumentError, ModelMismatchError, ModelMissingError } from '../server/src/common/errors';
import { sharedDir } from '../server/src/common/paths';
import { SpeakerEmbedder } from '../server/src/embedding/embedder';
import { loadModel, OnnxModel } from '../server/src/inference/onnx-session';
import { readOnnxMetadata } from '../server/src/models/onnx-metadata';
import { resolveEmbeddingModel, resolveSegmentationModel } from '../server/src/models/resolve';
import { Segmenter } from '../server/src/segmentation/segmenter';
import { tempDir, writeModelWithoutMetadata } from './helpers/media';

const standIn = path.join(sharedDir, 'models/ge2e-resemblyzer-fbank80/model.onnx');
const segmentation = path.join(sharedDir, 'models/sherpa-onnx-pyannote-segmentation-3-0/model.int8.onnx');

describe('model resolution and contract checks', () => {
  const media = tempDir('models');
  const savedModelsDir = process.env.MODELS_DIR;
  afterAll(() => {
    media.cleanup();
    if (savedModelsDir === undefined) delete process.env.MODELS_DIR;
    else process.env.MODELS_DIR = savedModelsDir;
  });

  it('reads the metadata the embedder prepares input from', async () => {
    const metadata = await readOnnxMetadata(standIn);
    expect(metadata).toMatchObject({ output_dim: '256', sample_rate: '16000', normalize_samples: '1', feature_normalize_type: '' });
  });

  it('binds tensors by position and takes sizes and normalisation from metadata', async () => {
    const embedder = await SpeakerEmbedder.load(resolveEmbeddingModel('ge2e-resemblyzer-fbank80'), { intraOpThreads: 1 });
    expect(embedder.dim).toBe(256);
    expect(embedder.frontEnd.featureNormalize).toBe('none');
    expect(embedder.frontEnd.normalizeSamples).toBe(true);
    expect(embedder.frontEnd.recipe.name).toBe('sherpa-onnx');
    expect(embedder.frontEnd.windowFrames).toBe(160);
    await embedder.release();
  });

  it('resolves a path to a known file with the manifest settings of that model', () => {
    const resolved = resolveEmbeddingModel(standIn);
    expect(resolved.name).toBe('ge2e-resemblyzer-fbank80');
    expect(resolved.assumedSettings).toBe(false);
  });

  it('names the search folders and the fetch command when a manifest model is missing', () => {
    expect(() => resolveEmbeddingModel('campplus-en-voxceleb')).toThrow(ModelMissingError);
    expect(() => resolveEmbeddingModel('campplus-en-voxceleb')).toThrow(/models:fetch -- campplus-en-voxceleb/);
  });

  it('rejects unknown names with the list of known ones, and missing paths', () => {
    expect(() => resolveEmbeddingModel('no-such-model')).toThrow(InvalidArgumentError);
    expect(() => resolveEmbeddingModel('no-such-model')).toThrow(/ge2e-resemblyzer-fbank80/);
    expect(() => resolveEmbeddingModel('missing/model.onnx')).toThrow(ModelMissingError);
  });

  it('finds models in MODELS_DIR first', () => {
    process.env.MODELS_DIR = path.join(sharedDir, 'models');
    expect(resolveSegmentationModel().path).toBe(segmentation);
  });

  it('refuses a model with the wrong signature (segmentation model given as embedding model)', async () => {
    const resolved = { ...resolveEmbeddingModel(), path: segmentation };
    await expect(SpeakerEmbedder.load(resolved)).rejects.toThrow(ModelMismatchError);
  });

  it('refuses an embedding model without metadata, saying which keys are missing', async () => {
    const stripped = path.join(media.dir, 'no-metadata.onnx');
    writeModelWithoutMetadata(standIn, stripped);
    expect(await readOnnxMetadata(stripped)).toEqual({});
    const resolved = { ...resolveEmbeddingModel(), path: stripped };
    await expect(SpeakerEmbedder.load(resolved)).rejects.toThrow(/lacks metadata "sample_rate", "normalize_samples", "feature_normalize_type"/);
  });

  it('refuses an embedding model given as segmentation model', async () => {
    await expect(Segmenter.load({ name: 'x', path: standIn, settings: { file: standIn, sha256: '0'.repeat(64) } })).rejects.toThrow(ModelMismatchError);
  });

  it('falls back to CPU with a log line when an accelerated provider cannot load', async () => {
    const lines: string[] = [];
    const model = await OnnxModel.load(standIn, { executionProviders: ['cuda', 'cpu'], log: (line) => lines.push(line) });
    expect(model.provider).toBe('cpu');
    expect(lines.join('\n')).toMatch(/cuda provider failed \(.+\); falling back/);
    const out = await model.run(new Float32Array(2 * 160 * 80), [2, 160, 80]);
    expect(out.dims).toEqual([2, 256]);
    await model.release();
  });

  it('runs a model on a worker thread with the same results as on the main thread', async () => {
    const input = Float32Array.from({ length: 3 * 160 * 80 }, (_, i) => Math.sin(i) * 3 - 8);
    const local = await loadModel(standIn, { intraOpThreads: 1 });
    const remote = await loadModel(standIn, { intraOpThreads: 1, inWorker: true });
    const a = await local.run(input.slice(), [3, 160, 80]);
    const b = await remote.run(input.slice(), [3, 160, 80]);
    expect(b.dims).toEqual(a.dims);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    await local.release();
    await remote.release();
  });

  it('refuses a file that is not an ONNX model', async () => {
    const resolved = { ...resolveEmbeddingModel(), path: path.join(sharedDir, 'models/PROVENANCE.md') };
    await expect(SpeakerEmbedder.load(resolved)).rejects.toThrow(ModelMismatchError);
  });
});
