/**
 * Recordings at different levels for `eval:eer --levels`: every utterance is played at one gain of a list,
 * picked by a hash of its path (the same file always gets the same gain, enroll and test usually differ,
 * like voices recorded in different rooms), and written as 16-bit audio would be: rounded to the 16-bit
 * grid and clipped at full scale.
 */
import { createHash } from 'node:crypto';

import { InvalidArgumentError } from '../common/errors';

/** Parses "-10,0,10" into gains in dB. */
export function parseLevelsDb(text: string): number[] {
  const levels = text.split(',').map((part) => Number(part.trim()));
  if (levels.length === 0 || levels.some((db) => !Number.isFinite(db) || Math.abs(db) > 60)) {
    throw new InvalidArgumentError(`--levels takes comma-separated gains in dB between -60 and 60 (e.g. -10,0,10), got "${text}".`);
  }
  return levels;
}

/** The gain (dB) of `levelsDb` that `file` is played at: the first byte of its path's sha256 picks it. */
export function levelForFile(file: string, levelsDb: readonly number[]): number {
  return levelsDb[createHash('sha256').update(file).digest()[0] % levelsDb.length];
}

/** `samples` (in [-1, 1]) times the gain, rounded to 16-bit steps and clipped: a new array. */
export function applyGain16(samples: Float32Array, gainDb: number): Float32Array {
  const gain = 10 ** (gainDb / 20);
  return samples.map((x) => Math.max(-1, Math.min(32767 / 32768, Math.round(x * gain * 32768) / 32768)));
}
