import path from 'node:path';

import { devDataDir } from '../common/paths';
import { decodeToArray } from '../audio';
import { resolveSegmentationModel } from '../models/resolve';
import { decodePowerset, DIGITAL_SILENCE_PEAK, isDigitalSilence, Segmenter } from './segmenter';

describe('isDigitalSilence', () => {
  it('takes zeros and ±1 LSB of 16-bit audio as silence, and anything louder as not', () => {
    expect(isDigitalSilence(new Float32Array(1000))).toBe(true);
    expect(isDigitalSilence(new Float32Array(1000).fill(1 / 32768))).toBe(true);
    const click = new Float32Array(1000);
    click[500] = -3 / 32768;
    expect(isDigitalSilence(click)).toBe(false);
    expect(isDigitalSilence(new Float32Array([0, DIGITAL_SILENCE_PEAK * 1.01]))).toBe(false);
  });
});

describe('Segmenter on digital silence', () => {
  let segmenter: Segmenter;
  let speech: Float32Array;
  beforeAll(async () => {
    segmenter = await Segmenter.load(resolveSegmentationModel(), { intraOpThreads: 1 });
    const samples = await decodeToArray(path.join(devDataDir, 'diarization', 'pyannote_sample.wav'));
    speech = samples.slice(0, segmenter.windowSamples);
  });
  afterAll(() => segmenter.release());

  it('the shipped model calls all-zero input no speech, so skipping it changes no answer', () => {
    expect(segmenter.silenceIsNoSpeech).toBe(true);
  });

  it('answers silent chunks without the model and the others exactly as alone', async () => {
    const zeros = new Float32Array(segmenter.windowSamples);
    const hiss = new Float32Array(segmenter.windowSamples).map((_, i) => (i % 2 ? 1 : -1) / 32768);
    const before = segmenter.silentChunks;
    const [a, b, c] = await segmenter.segment([zeros, speech, hiss]);
    expect(segmenter.silentChunks - before).toBe(2);
    expect(a.every((x) => x === 0)).toBe(true);
    expect(c.every((x) => x === 0)).toBe(true);
    const [alone] = await segmenter.segment([speech]);
    expect(Array.from(b)).toEqual(Array.from(alone));
    expect(b.some((x) => x === 1)).toBe(true); // the clip has speech in its first 10 s
  });

  it('decodes one model run several ways: the first decoding as segment() answers it, a liberal one a superset of its speech', async () => {
    const [hard, liberal] = await segmenter.segmentDecodings([speech], [{}, { maxNonSpeechProbability: 0.9 }]);
    const [alone] = await segmenter.segment([speech]);
    expect(Array.from(hard[0])).toEqual(Array.from(alone));
    const speechFrames = (a: Uint8Array): number[] =>
      Array.from({ length: segmenter.framesPerChunk }, (_, f) => f).filter((f) => a[f * 3] + a[f * 3 + 1] + a[f * 3 + 2] > 0);
    const hardFrames = speechFrames(hard[0]);
    const liberalFrames = new Set(speechFrames(liberal[0]));
    expect(hardFrames.every((f) => liberalFrames.has(f))).toBe(true);
    expect(liberalFrames.size).toBeGreaterThan(hardFrames.length);
  });
});

/** One frame's 7 log-probabilities (no speech, speakers 0-2, pairs 01, 02, 12) from probabilities. */
function frame(probabilities: number[]): number[] {
  return probabilities.map((p) => Math.log(p));
}

describe('decodePowerset', () => {
  // Frame 0: clearly speaker 1. Frame 1: pair (0, 2). Frame 2: non-speech most likely (0.55) but speaker 2 close behind.
  const data = Float32Array.from([
    ...frame([0.05, 0.05, 0.8, 0.02, 0.04, 0.02, 0.02]),
    ...frame([0.05, 0.1, 0.02, 0.1, 0.03, 0.68, 0.02]),
    ...frame([0.55, 0.02, 0.05, 0.3, 0.03, 0.03, 0.02]),
  ]);

  it('takes the most likely of the 7 classes by default (pyannote hard decoding)', () => {
    expect(Array.from(decodePowerset(data, 0, 3))).toEqual([0, 1, 0, 1, 0, 1, 0, 0, 0]);
  });

  it('with maxNonSpeechProbability, a frame below it is speech: its most likely speech class', () => {
    expect(Array.from(decodePowerset(data, 0, 3, { maxNonSpeechProbability: 0.6 })).slice(6)).toEqual([0, 0, 1]);
    // 0.55 is not below 0.5: the frame stays non-speech.
    expect(Array.from(decodePowerset(data, 0, 3, { maxNonSpeechProbability: 0.5 })).slice(6)).toEqual([0, 0, 0]);
  });

  it('with minOverlapProbability, a one-speaker frame whose pairs reach it takes its most likely pair', () => {
    // Frame 0's pairs sum to 0.08; speaker 1 alone (0.5) with pairs 0.05 + 0.3 + 0.02 = 0.37.
    const oneOrTwo = Float32Array.from([...frame([0.05, 0.05, 0.8, 0.02, 0.04, 0.02, 0.02]), ...frame([0.05, 0.03, 0.5, 0.05, 0.05, 0.3, 0.02])]);
    expect(Array.from(decodePowerset(oneOrTwo, 0, 2))).toEqual([0, 1, 0, 0, 1, 0]);
    expect(Array.from(decodePowerset(oneOrTwo, 0, 2, { minOverlapProbability: 0.35 }))).toEqual([0, 1, 0, 1, 0, 1]);
    expect(Array.from(decodePowerset(oneOrTwo, 0, 2, { minOverlapProbability: 0.4 }))).toEqual([0, 1, 0, 0, 1, 0]);
    // Non-speech and pair frames are left alone.
    expect(Array.from(decodePowerset(data, 0, 3, { minOverlapProbability: 0.01 })).slice(3)).toEqual([1, 0, 1, 0, 0, 0]);
  });

  it('decodes a chunk from its offset in a batch', () => {
    expect(Array.from(decodePowerset(data, 1, 2))).toEqual([1, 0, 1, 0, 0, 0]);
  });
});
