/**
 * Model variants: manifest, variant selection and fallback, build-record checks, the CAM++ export run by
 * the engine, bad model files, and the Python toolchain's own tests (pytest in models/.venv, created by
 * models/setup.sh, which `npm test` runs first).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { InvalidArgumentError, ModelMismatchError, ModelMissingError } from '../server/src/common/errors';
import { devDataDir, repoRoot, sharedDir } from '../server/src/common/paths';
import { decodeToArray } from '../server/src/audio';
import { SpeakerEmbedder } from '../server/src/embedding/embedder';
import { cosine } from '../server/src/vectors/math';
import { collectCalibrationWindows, encodeNpy } from '../server/src/cli/model-calibration';
import { loadManifest, manifestPath, parseManifest } from '../server/src/models/manifest';
import { resolveEmbeddingModel } from '../server/src/models/resolve';
import { sha256FileSync } from '../server/src/common/sha256';
import { canonicalJson, recipeHash, selectVariant, VariantSelection } from '../server/src/models/variants';
import { ffmpeg, tempDir } from './helpers/media';

const python = path.join(repoRoot, 'models', '.venv', 'bin', 'python');
const standIn = path.join(sharedDir, 'models/ge2e-resemblyzer-fbank80/model.onnx');
const STANDIN_SHA = 'e9094b043226359ab04bfdac0a4e51cf75f861efab4773c0c50f063bcb9bd503';

function runPython(code: string): string {
  return execFileSync(python, ['-c', code], { cwd: path.join(repoRoot, 'models'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('model manifest with variants', () => {
  it('lists INT8, FP16 and pruned variants with recipes for the stand-in, the CAM++ export and the official CAM++', () => {
    const manifest = loadManifest();
    for (const name of ['ge2e-resemblyzer-fbank80', 'campplus-export-192', 'campplus-en-voxceleb', 'campplus-zh-cn']) {
      expect(Object.keys(manifest.embedding[name].variants ?? {}).sort()).toEqual(['fp16', 'int8', 'pruned20', 'pruned40']);
    }
    expect(manifest.embedding['ge2e-resemblyzer-fbank80'].sha256).toBe(STANDIN_SHA);
    expect(manifest.embedding['campplus-export-192'].build).toEqual({ method: 'export-campplus', embeddingSize: 192, seed: 0 });
    expect(manifest.embedding['campplus-export-192'].untrained).toBe(true);
  });

  it('refuses an entry with both a pinned hash and a build recipe, or neither', () => {
    const base = {
      file: 'x.onnx',
      fbankRecipe: 'kaldi-default',
      windowSec: 1.5,
      hopSec: 0.75,
      minWindowSec: 0.4,
      thresholdCosine: { segmentation: 0.5, windows: 0.5 },
    };
    const wrap = (entry: object) => ({ segmentation: {}, embedding: { x: entry }, defaults: { segmentation: 's', embedding: 'x' } });
    expect(() => parseManifest(wrap({ ...base, sha256: STANDIN_SHA, build: { method: 'export-campplus', embeddingSize: 192, seed: 0 } }))).toThrow(
      /either a pinned sha256/,
    );
    expect(() => parseManifest(wrap(base))).toThrow(/either a pinned sha256/);
    expect(() => parseManifest(wrap({ ...base, sha256: STANDIN_SHA, variants: { int9: { file: 'a', recipe: { method: 'int8' } } } }))).toThrow();
  });

  it('gives an entry with sameWeightsAs the weights of the entry it names, and refuses a missing or chained one', () => {
    const levelled = loadManifest().embedding['ge2e-resemblyzer-fbank80-levelled'];
    const plain = loadManifest().embedding['ge2e-resemblyzer-fbank80'];
    expect(levelled).toMatchObject({ file: plain.file, sha256: STANDIN_SHA, variants: plain.variants, windowLevelLogPower: -3 });
    expect(levelled.identifyThresholdCosine).not.toBe(plain.identifyThresholdCosine);
    const json = JSON.parse(readFileSync(manifestPath, 'utf8'));
    json.embedding.chained = { ...json.embedding['ge2e-resemblyzer-fbank80-levelled'], sameWeightsAs: 'ge2e-resemblyzer-fbank80-levelled' };
    expect(() => parseManifest(json)).toThrow(/sameWeightsAs "ge2e-resemblyzer-fbank80-levelled", which must name an entry with weights/);
    json.embedding.chained.sameWeightsAs = 'nothing-here';
    expect(() => parseManifest(json)).toThrow(/sameWeightsAs "nothing-here"/);
  });

  it('hashes recipes as canonical JSON, as the Python toolchain does', () => {
    expect(canonicalJson({ b: [1, 0.5, 'x'], a: { d: true, c: null } })).toBe('{"a":{"c":null,"d":true},"b":[1,0.5,"x"]}');
    const recipe = loadManifest().embedding['ge2e-resemblyzer-fbank80'].variants!.int8!.recipe;
    const py = runPython(
      `import json; from toolchain.onnxutil import recipe_hash; print(recipe_hash(json.loads(${JSON.stringify(JSON.stringify(recipe))})))`,
    ).trim();
    expect(recipeHash(recipe)).toBe(py);
  });
});

describe('variant selection', () => {
  const cache = tempDir('variants-cache');
  const saved = { cache: process.env.MODEL_CACHE_DIR, models: process.env.MODELS_DIR };
  const int8Entry = () => loadManifest().embedding['ge2e-resemblyzer-fbank80'].variants!.int8!;
  const int8Path = () => path.join(cache.dir, int8Entry().file);

  /** A stand-in "variant" (a copy of the FP32 file: selection does not look inside) with a build record. */
  function writeVariant(options: { sourceSha?: string; recipe?: unknown } = {}): void {
    mkdirSync(path.dirname(int8Path()), { recursive: true });
    copyFileSync(standIn, int8Path());
    const record = {
      sourceSha256: options.sourceSha ?? STANDIN_SHA,
      recipeHash: recipeHash(options.recipe ?? int8Entry().recipe),
      sha256: sha256FileSync(int8Path()),
      bytes: 1,
    };
    writeFileSync(`${int8Path()}.build.json`, JSON.stringify(record));
  }

  beforeAll(() => {
    process.env.MODEL_CACHE_DIR = cache.dir;
    delete process.env.MODELS_DIR;
  });
  afterAll(() => {
    cache.cleanup();
    for (const [key, env] of [
      ['MODEL_CACHE_DIR', saved.cache],
      ['MODELS_DIR', saved.models],
    ] as const) {
      if (env === undefined) delete process.env[key];
      else process.env[key] = env;
    }
  });

  it('auto falls back to FP32 when the variant is not built, saying how to build it', () => {
    const base = resolveEmbeddingModel('ge2e-resemblyzer-fbank80');
    const chosen = selectVariant(base, 'auto', { accelerated: false });
    expect(chosen.variant).toBe('fp32');
    expect(chosen.model.path).toBe(standIn);
    expect(chosen.reason).toMatch(/CPU inference → int8, but it is not built \(`npm run models:build`/);
  });

  it('an explicit variant that is not built fails naming the build command', () => {
    const base = resolveEmbeddingModel('ge2e-resemblyzer-fbank80');
    expect(() => selectVariant(base, 'int8', { accelerated: false })).toThrow(ModelMissingError);
    expect(() => selectVariant(base, 'pruned40', { accelerated: false })).toThrow(/not built\. Build it with `npm run models:build`/);
  });

  it('auto takes INT8 on CPU and FP16 on GPU (FP32 when FP16 is missing)', () => {
    writeVariant();
    const base = resolveEmbeddingModel('ge2e-resemblyzer-fbank80');
    const cpu = selectVariant(base, 'auto', { accelerated: false });
    expect(cpu).toMatchObject({ variant: 'int8', reason: 'auto: CPU inference → int8' });
    expect(cpu.model.path).toBe(int8Path());
    const gpu = selectVariant(base, 'auto', { accelerated: true });
    expect(gpu.variant).toBe('fp32');
    expect(gpu.reason).toMatch(/GPU provider available → fp16, but it is not built/);
    expect(selectVariant(base, 'int8', { accelerated: true }).variant).toBe('int8');
  });

  it('refuses a variant whose source hash does not match the manifest, and auto falls back', () => {
    writeVariant({ sourceSha: 'f'.repeat(64) });
    const base = resolveEmbeddingModel('ge2e-resemblyzer-fbank80');
    expect(() => selectVariant(base, 'int8', { accelerated: false })).toThrow(ModelMismatchError);
    expect(() => selectVariant(base, 'int8', { accelerated: false })).toThrow(/hash mismatch\)\. Rebuild it with `npm run models:build`/);
    expect(selectVariant(base, 'auto', { accelerated: false })).toMatchObject({ variant: 'fp32' });
  });

  it('refuses a stale recipe and a variant file that changed after its build (truncated)', () => {
    writeVariant({ recipe: { method: 'int8', other: true } });
    const base = resolveEmbeddingModel('ge2e-resemblyzer-fbank80');
    expect(() => selectVariant(base, 'int8', { accelerated: false })).toThrow(/another recipe than the manifest's \(stale\)/);
    writeVariant();
    writeFileSync(int8Path(), readFileSync(int8Path()).subarray(0, 1000));
    expect(() => selectVariant(base, 'int8', { accelerated: false })).toThrow(/changed or truncated/);
  });

  it('a model given by path has only fp32', () => {
    const other = path.join(cache.dir, 'custom.onnx');
    copyFileSync(standIn, other);
    const base = resolveEmbeddingModel(other);
    expect(selectVariant(base, 'auto', { accelerated: false }).variant).toBe('fp32');
    expect(() => selectVariant(base, 'fp16', { accelerated: false })).toThrow(/has no "fp16" variant/);
  });

  it('the engine loads the selected variant and logs why for auto', async () => {
    writeVariant();
    const lines: string[] = [];
    const embedder = await SpeakerEmbedder.loadNamed('ge2e-resemblyzer-fbank80', 'auto', {
      intraOpThreads: 1,
      executionProviders: ['cpu'],
      log: (l) => lines.push(l),
    });
    expect(embedder.variant).toBe('int8');
    expect(lines).toContain('embedding model ge2e-resemblyzer-fbank80: variant int8 (auto: CPU inference → int8)');
    await embedder.release();
  });

  it('a CAM++ export that is not built names models:build', () => {
    expect(() => resolveEmbeddingModel('campplus-export-192')).toThrow(/made here, not downloaded: build it with `npm run models:build`/);
  });
});

/** The built INT8 of the stand-in, or why there is none (decided when the file loads, with the real model cache). */
function builtStandInInt8(): VariantSelection | string {
  try {
    return selectVariant(resolveEmbeddingModel('ge2e-resemblyzer-fbank80'), 'int8', { accelerated: false });
  } catch (error) {
    return (error as Error).message;
  }
}

const standInInt8 = builtStandInInt8();
if (typeof standInInt8 === 'string') console.warn(`skipping the INT8 level-robustness test: ${standInInt8}`);

describe('INT8 of the stand-in on loud and downmixed input', () => {
  const media = tempDir('int8-levels');
  afterAll(() => media.cleanup());

  /**
   * Per-window cosine of INT8 to FP32 on pyannote_sample as is and 12 dB louder as a 6-channel 48 kHz file
   * (the stand-in's gain normalisation only raises quiet input, so a loud one reaches the LSTMs unscaled).
   * Bounds: the per-tensor recipe that lost a speaker on the downmix (test/pipeline.test.ts) scored mean
   * 0.994 / min 0.989 here, the per-channel one 0.9986-0.9989 / 0.997; mean >= 0.997 and min >= 0.993 sit
   * between the two, and loud input may not cost more than 0.001 of mean cosine.
   */
  (typeof standInInt8 === 'string' ? it.skip : it)(
    'keeps cosine to FP32 >= 0.997 on average at +12 dB as at 0 dB',
    async () => {
      const selection = standInInt8 as VariantSelection;
      const sample = path.join(devDataDir, 'diarization/pyannote_sample.wav');
      const loud = path.join(media.dir, 'loud-six-channels.wav');
      ffmpeg(['-i', sample, '-af', 'volume=12dB,pan=5.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=c0|BR=c0', '-ar', '48000', loud]);
      const fp32 = await SpeakerEmbedder.load(resolveEmbeddingModel('ge2e-resemblyzer-fbank80'), { intraOpThreads: 1, executionProviders: ['cpu'] });
      const int8 = await SpeakerEmbedder.load(selection.model, { intraOpThreads: 1, executionProviders: ['cpu'] });
      const agreement = async (file: string) => {
        const samples = await decodeToArray(file);
        const fbank = fp32.fbank(samples);
        const windows = fp32.windowsFor(fbank.length / fp32.frontEnd.recipe.numMelBins);
        const [a, b] = await Promise.all([fp32.embedWindows(fbank, windows), int8.embedWindows(fbank, windows)]);
        const cos = windows.map((_, i) => cosine(a.subarray(i * fp32.dim, (i + 1) * fp32.dim), b.subarray(i * fp32.dim, (i + 1) * fp32.dim)));
        const rms = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
        return { mean: cos.reduce((sum, c) => sum + c, 0) / cos.length, min: Math.min(...cos), rms, windows: cos.length };
      };
      try {
        const quiet = await agreement(sample);
        const louder = await agreement(loud);
        expect(louder.windows).toBe(quiet.windows);
        expect(20 * Math.log10(louder.rms / quiet.rms)).toBeGreaterThan(11); // really 12 dB louder (a few peaks clip)
        for (const level of [quiet, louder]) {
          expect(level.mean).toBeGreaterThanOrEqual(0.997);
          expect(level.min).toBeGreaterThanOrEqual(0.993);
        }
        expect(louder.mean).toBeGreaterThan(quiet.mean - 0.001);
      } finally {
        await Promise.all([fp32.release(), int8.release()]);
      }
    },
    120_000,
  );
});

describe('the CAM++ export through the engine, and bad model files', () => {
  const media = tempDir('campplus-export');

  afterAll(() => media.cleanup());

  it('runs the project export (sherpa-onnx contract) with CAM++ settings from its metadata', async () => {
    const out = path.join(media.dir, 'campplus.onnx');
    runPython(`from pathlib import Path; from toolchain.export import export_campplus; export_campplus(Path(${JSON.stringify(out)}), 192, 0)`);
    const embedder = await SpeakerEmbedder.load({ ...resolveEmbeddingModel(out) }, { intraOpThreads: 1 });
    expect(embedder.dim).toBe(192);
    expect(embedder.frontEnd.featureNormalize).toBe('global-mean');
    expect(embedder.frontEnd.recipe.name).toBe('kaldi-default');
    const samples = await decodeToArray(path.join(devDataDir, 'diarization/pyannote_sample.wav'));
    const embedding = await embedder.embedUtterance(samples.subarray(0, 16000 * 4));
    expect(embedding).toHaveLength(192);
    expect(Math.hypot(...embedding!)).toBeCloseTo(1, 5);
    await embedder.release();
  });

  it('refuses a truncated model file', async () => {
    const truncated = path.join(media.dir, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(standIn).subarray(0, 200_000));
    await expect(SpeakerEmbedder.load({ ...resolveEmbeddingModel(), path: truncated })).rejects.toThrow(ModelMismatchError);
  });

  it('refuses a model whose input is not rank 3', async () => {
    const flat = path.join(media.dir, 'rank2.onnx');
    runPython(
      [
        'import torch',
        'from toolchain.onnxutil import set_metadata',
        'import onnx',
        'class F(torch.nn.Module):',
        '    def forward(self, x): return x[:, :192]',
        `torch.onnx.export(F(), (torch.zeros(1, 400),), ${JSON.stringify(flat)}, input_names=["x"], output_names=["embedding"], opset_version=13, dynamo=False)`,
        `m = onnx.load(${JSON.stringify(flat)}); set_metadata(m, {"sample_rate": "16000", "normalize_samples": "1", "feature_normalize_type": "global-mean", "output_dim": "192"}); onnx.save(m, ${JSON.stringify(flat)})`,
      ].join('\n'),
    );
    await expect(SpeakerEmbedder.load({ ...resolveEmbeddingModel(), path: flat })).rejects.toThrow(/expected log fbank \[N, T, 80\]/);
  });
});

describe('calibration windows', () => {
  const media = tempDir('calibration');
  afterAll(() => media.cleanup());

  it('writes .npy that NumPy reads back exactly', () => {
    const file = path.join(media.dir, 'a.npy');
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 7);
    writeFileSync(file, encodeNpy(data, [2, 3, 4]));
    const out = runPython(`import numpy as np; a = np.load(${JSON.stringify(file)}); print(a.shape, a.dtype, float(a[1, 2, 3]))`).trim();
    expect(out).toBe(`(2, 3, 4) float32 ${Math.fround(23 / 7)}`);
  });

  it('fails clearly when a folder holds no speech to calibrate on', async () => {
    await expect(collectCalibrationWindows(media.dir, { recipe: 'sherpa-onnx', windowFrames: 160, maxWindows: 8 })).rejects.toThrow(InvalidArgumentError);
    await expect(collectCalibrationWindows(media.dir, { recipe: 'sherpa-onnx', windowFrames: 160, maxWindows: 8 })).rejects.toThrow(
      /calibration data would be empty/,
    );
  });
});

describe('the Python toolchain tests (pytest)', () => {
  it('pass: CAM++ parameter counts, checkpoint errors, export contract, quantization round trip, pruning, empty calibration', () => {
    const result = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-W', 'ignore', 'tests'], {
      cwd: path.join(repoRoot, 'models'),
      encoding: 'utf8',
    });
    const summary = result.stdout.trim().split('\n').pop() ?? '';
    if (result.status !== 0) throw new Error(`pytest failed (exit ${result.status}):\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
    expect(summary).toMatch(/^\d+ passed/);
    expect(summary).not.toMatch(/failed|error/);
  }, 900_000);
});
