/**
 * Level invariance of the two models' inputs. Embedding: one level per window (manifest windowLevelLogPower); the
 * stand-in's own volume normalisation only raises quiet windows, so its embeddings follow the recording's level, the
 * levelled entry's do not. Segmentation: each chunk scaled to one RMS (segmentation.chunkRms).
 */
import path from 'node:path';

import { decodeToArray } from '../server/src/audio/decode';
import { sharedDir } from '../server/src/common/paths';
import { setWindowLevel, SpeakerEmbedder, subtractFrameMean } from '../server/src/embedding/embedder';
import { applyGain16, levelForFile, parseLevelsDb } from '../server/src/eval/levels';
import { embeddingModelIdentity } from '../server/src/models/model-identity';
import { resolveSegmentationModel } from '../server/src/models/resolve';
import { scaleToRms, Segmenter, MAX_CHUNK_GAIN } from '../server/src/segmentation/segmenter';
import { rowDot } from '../server/src/vectors/math';

const STANDIN_SHA = 'e9094b043226359ab04bfdac0a4e51cf75f861efab4773c0c50f063bcb9bd503';
const quietClip = path.join(sharedDir, 'data/dev/diarization/ami_EN2002a_0184-0214_farfield.wav');
const utterance = path.join(sharedDir, 'data/dev/verification/wav/3dspeaker-en-speaker1/speaker1_a_en_16k.wav');

const logMeanFrameEnergy = (feats: Float32Array, frames: number) => Math.log(feats.reduce((s, x) => s + Math.exp(x), 0) / frames);

describe('setWindowLevel', () => {
  const frames = 50;
  const bins = 80;
  const feats = Float32Array.from({ length: frames * bins }, (_, i) => -8 + 6 * Math.sin(i * 0.37) + ((i * 7919) % 13) / 13);

  it('sets the log of the mean frame energy to the target', () => {
    const x = feats.slice();
    setWindowLevel(x, frames, bins, -3);
    expect(logMeanFrameEnergy(x, frames)).toBeCloseTo(-3, 5);
    // One constant for the whole window: differences between values are kept.
    expect(x[17] - x[5]).toBeCloseTo(feats[17] - feats[5], 5);
  });

  it('gives the same window whatever the gain (a constant on the log fbank)', () => {
    const a = feats.slice();
    const b = feats.map((v) => v + 2 * Math.log(10 ** (-10 / 20))); // the same audio 10 dB quieter
    setWindowLevel(a, frames, bins, 1.5);
    setWindowLevel(b, frames, bins, 1.5);
    for (let i = 0; i < a.length; i += 97) expect(b[i]).toBeCloseTo(a[i], 4);
  });

  it('changes nothing a mean-normalising model (CAM++) sees', () => {
    const a = feats.slice();
    const b = feats.slice();
    setWindowLevel(b, frames, bins, 4);
    subtractFrameMean(a, frames, bins);
    subtractFrameMean(b, frames, bins);
    for (let i = 0; i < a.length; i += 89) expect(b[i]).toBeCloseTo(a[i], 4);
  });
});

describe('the levelled stand-in', () => {
  const cosines: Record<string, number[]> = {};

  beforeAll(async () => {
    const samples = await decodeToArray(utterance);
    for (const name of ['ge2e-resemblyzer-fbank80', 'ge2e-resemblyzer-fbank80-levelled']) {
      const embedder = await SpeakerEmbedder.loadNamed(name, 'fp32', { intraOpThreads: 1 });
      const at = async (db: number) => (await embedder.embedUtterance(applyGain16(samples, db)))!;
      const reference = await at(0);
      cosines[name] = [];
      for (const db of [-10, 10]) cosines[name].push(rowDot(reference, 0, await at(db), 0, embedder.dim));
      await embedder.release();
    }
  }, 60_000);

  it('embeds an utterance 10 dB quieter or louder as it is (the plain entry does not)', () => {
    for (const c of cosines['ge2e-resemblyzer-fbank80-levelled']) expect(c).toBeGreaterThan(0.999);
    // The plain entry moves with the level: the measured cosines are far below the levelled ones.
    expect(Math.min(...cosines['ge2e-resemblyzer-fbank80'])).toBeLessThan(0.99);
  });

  it('is another voice space: its identity differs from the plain file hash', async () => {
    const plain = await embeddingModelIdentity('ge2e-resemblyzer-fbank80');
    const levelled = await embeddingModelIdentity('ge2e-resemblyzer-fbank80-levelled');
    expect(plain.hash).toBe(STANDIN_SHA);
    expect(levelled.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(levelled.hash).not.toBe(plain.hash);
    expect(levelled).toMatchObject({ name: 'ge2e-resemblyzer-fbank80-levelled', dim: 256 });
  });
});

describe('eval:eer --levels', () => {
  it('parses gains in dB and refuses anything else, saying what it takes', () => {
    expect(parseLevelsDb('-10, 0,10')).toEqual([-10, 0, 10]);
    expect(() => parseLevelsDb('-10,loud')).toThrow(/comma-separated gains in dB/);
    expect(() => parseLevelsDb('120')).toThrow(/between -60 and 60/);
  });

  it('gives each file one gain, the same every time, and uses every gain of the list', () => {
    const files = Array.from({ length: 60 }, (_, i) => `wav/speaker${i}/utt.wav`);
    const picked = files.map((f) => levelForFile(f, [-10, 0, 10]));
    expect(files.map((f) => levelForFile(f, [-10, 0, 10]))).toEqual(picked);
    expect(new Set(picked)).toEqual(new Set([-10, 0, 10]));
  });

  it('writes the gained audio as 16-bit would be: rounded to 16-bit steps, clipped at full scale', () => {
    // ×4 (+12.04 dB): 0.5 and 0.25 clip at the largest 16-bit value, -0.5 at -1; 1e-6 ×4 is under half a step.
    const out = applyGain16(Float32Array.from([0.5, -0.5, 1e-6, 0.25, 0.01]), 20 * Math.log10(4));
    expect(Array.from(out)).toEqual([32767 / 32768, -1, 0, 32767 / 32768, Math.fround(Math.round(0.04 * 32768) / 32768)]);
  });
});

describe('segmentation input scaled to one RMS (segmentation.chunkRms)', () => {
  it('scales a chunk to the target RMS, at most by MAX_CHUNK_GAIN, and leaves zeros alone', () => {
    const chunk = Float32Array.from({ length: 1000 }, (_, i) => 0.01 * Math.sin(i / 7));
    scaleToRms(chunk, 0.05);
    expect(Math.sqrt(chunk.reduce((s, x) => s + x * x, 0) / chunk.length)).toBeCloseTo(0.05, 6);
    const faint = Float32Array.from({ length: 1000 }, (_, i) => 1e-7 * Math.sin(i / 7));
    const before = faint.slice();
    scaleToRms(faint, 0.05);
    expect(faint[11] / before[11]).toBeCloseTo(MAX_CHUNK_GAIN, 3);
    const zeros = new Float32Array(10);
    scaleToRms(zeros, 0.05);
    expect(Array.from(zeros)).toEqual(new Array(10).fill(0));
  });

  it('makes the shipped INT8 model decode a quiet chunk 10 dB quieter as it is (unscaled it does not)', async () => {
    const chunk = (await decodeToArray(quietClip)).subarray(0, 160_000);
    const quieter = chunk.map((x) => x * 10 ** (-10 / 20));
    const segmenter = await Segmenter.load(resolveSegmentationModel(), { intraOpThreads: 1 });
    const changed = (a: Uint8Array, b: Uint8Array) => a.reduce((n, x, i) => n + (x !== b[i] ? 1 : 0), 0) / a.length;
    try {
      const [plain, plainQuieter] = await Promise.all([segmenter.segment([chunk]), segmenter.segment([quieter])]);
      const [scaled, scaledQuieter] = await Promise.all([
        segmenter.segment([chunk], {}, { chunkRms: 0.05 }),
        segmenter.segment([quieter], {}, { chunkRms: 0.05 }),
      ]);
      // Measured: 24 % of the activity values change unscaled, none scaled.
      expect(changed(plain[0], plainQuieter[0])).toBeGreaterThan(0.05);
      expect(changed(scaled[0], scaledQuieter[0])).toBeLessThan(0.002);
    } finally {
      await segmenter.release();
    }
  }, 30_000);
});
