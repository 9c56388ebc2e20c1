import { decodePowerset } from './segmenter';

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

  it('decodes a chunk from its offset in a batch', () => {
    expect(Array.from(decodePowerset(data, 1, 2))).toEqual([1, 0, 1, 0, 0, 0]);
  });
});
