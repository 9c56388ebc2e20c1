/**
 * Level normalisation of a decoded stream: one gain per recording, taken from its speech level, so that a
 * copy 10 dB louder or quieter feeds the models (nearly) the same numbers. The decoder streams hours-long
 * files, so the level is a first-pass estimate: the blocks are held back until `estimateSec` seconds of
 * non-silent audio have been seen (or `maxHoldSec` of audio, or the end), the gain is computed from those,
 * and that one gain scales the held blocks and every block after them.
 *
 * The speech level is a percentile of 20 ms frame levels (dBFS, RMS), read from a 0.1 dB histogram: a
 * ±10 dB copy moves every frame by exactly 10 dB, so the percentile moves with it and the gains differ by
 * the same 10 dB. Frames at or below SILENT_FRAME_DBFS (digital silence, prepended padding) are not
 * counted, so leading silence does not move the estimate, and the gain is capped (`maxGainDb`) so a
 * recording of room noise alone is not raised into false alarms. With `maxCutDb` 0 (raise only) copies alike
 * are those whose levels both lie below the target. Samples are float: a gain above 0 dB
 * may take peaks past ±1, which the models take as they are (nothing clips twice).
 *
 * Pure: no ffmpeg (audio/decode.ts decodes).
 */
import { InvalidArgumentError } from '../common/errors';
import { TARGET_SAMPLE_RATE } from './sample-rate';

export interface LevelNormalizationOptions {
  /** The speech level (the percentile below) is brought to this, in dBFS. */
  targetDbfs: number;
  /** Which frame level counts as the speech level: 0.95 = the level 95 % of non-silent frames stay below. */
  percentile: number;
  /** Seconds of non-silent audio the estimate takes. */
  estimateSec: number;
  /** Audio held back at most while waiting for those (memory: 64 kB per second held). */
  maxHoldSec: number;
  /** Largest amplification, in dB. */
  maxGainDb: number;
  /** Largest attenuation, in dB. */
  maxCutDb: number;
}

/** 20 ms at 16 kHz. */
export const LEVEL_FRAME_SAMPLES = 320;
/** Frames at or below this RMS level (dBFS) are silence and not counted (16-bit digital silence is below it). */
export const SILENT_FRAME_DBFS = -80;
const TOP_DBFS = 20; // float samples may exceed full scale
const BIN_DB = 0.1;
const BINS = Math.round((TOP_DBFS - SILENT_FRAME_DBFS) / BIN_DB);

/** Histogram of 20 ms frame levels, fed block by block (frames may straddle blocks). */
export class LevelMeter {
  private readonly histogram = new Float64Array(BINS);
  private counted = 0;
  private partial = 0; // samples of the frame in progress
  private energy = 0; // their sum of squares

  /** Non-silent frames counted so far. */
  get voicedFrames(): number {
    return this.counted;
  }

  /** Seconds of non-silent audio counted so far. */
  get voicedSec(): number {
    return (this.counted * LEVEL_FRAME_SAMPLES) / TARGET_SAMPLE_RATE;
  }

  add(block: Float32Array): void {
    for (let i = 0; i < block.length; i++) {
      this.energy += block[i] * block[i];
      if (++this.partial === LEVEL_FRAME_SAMPLES) this.closeFrame();
    }
  }

  private closeFrame(): void {
    const db = 10 * Math.log10(this.energy / LEVEL_FRAME_SAMPLES);
    this.partial = 0;
    this.energy = 0;
    if (!(db > SILENT_FRAME_DBFS)) return;
    this.histogram[Math.min(BINS - 1, Math.floor((db - SILENT_FRAME_DBFS) / BIN_DB))]++;
    this.counted++;
  }

  /** The level (dBFS, bin centre) below which `percentile` of the non-silent frames lie; undefined when none were counted. */
  levelDbfs(percentile: number): number | undefined {
    if (this.counted === 0) return undefined;
    const rank = Math.max(1, Math.ceil(percentile * this.counted));
    let seen = 0;
    for (let b = 0; b < BINS; b++) {
      seen += this.histogram[b];
      if (seen >= rank) return SILENT_FRAME_DBFS + (b + 0.5) * BIN_DB;
    }
    return TOP_DBFS;
  }
}

/** The gain (dB) that brings `levelDbfs` to the target, within the caps; 0 dB when there was no level to measure. */
export function normalizationGainDb(levelDbfs: number | undefined, options: Pick<LevelNormalizationOptions, 'targetDbfs' | 'maxGainDb' | 'maxCutDb'>): number {
  if (levelDbfs === undefined) return 0;
  return Math.max(-options.maxCutDb, Math.min(options.maxGainDb, options.targetDbfs - levelDbfs));
}

export interface LevelDecision {
  levelDbfs: number | undefined;
  gainDb: number;
  /** Seconds of audio the estimate was made on (all of them, silence included). */
  estimatedOnSec: number;
}

/**
 * `blocks` with one gain applied (see the file comment). The first blocks come out once the estimate is
 * made; `onDecision` hears the measured level and the gain before then.
 */
export async function* normalizeLevel(
  blocks: AsyncIterable<Float32Array>,
  options: LevelNormalizationOptions,
  onDecision?: (decision: LevelDecision) => void,
): AsyncGenerator<Float32Array> {
  let scale = 1;
  const held = holdForLevel(blocks, options, (decision) => {
    scale = 10 ** (decision.gainDb / 20);
    onDecision?.(decision);
  });
  for await (const block of held) yield applyGain(block, scale);
}

/**
 * `blocks` unchanged, but held back until the level estimate is made (see the file comment): `onDecision`
 * hears the level and the gain before the first block comes out, for a caller that applies the gain to
 * some consumers of the stream only.
 */
export async function* holdForLevel(
  blocks: AsyncIterable<Float32Array>,
  options: LevelNormalizationOptions,
  onDecision: (decision: LevelDecision) => void,
): AsyncGenerator<Float32Array> {
  checkOptions(options);
  const meter = new LevelMeter();
  const held: Float32Array[] = [];
  let heldSamples = 0;
  let decided = false;
  const decide = (): void => {
    const levelDbfs = meter.levelDbfs(options.percentile);
    onDecision({ levelDbfs, gainDb: normalizationGainDb(levelDbfs, options), estimatedOnSec: heldSamples / TARGET_SAMPLE_RATE });
    decided = true;
  };
  for await (const block of blocks) {
    if (decided) {
      yield block;
      continue;
    }
    meter.add(block);
    held.push(block);
    heldSamples += block.length;
    if (meter.voicedSec >= options.estimateSec || heldSamples >= options.maxHoldSec * TARGET_SAMPLE_RATE) {
      decide();
      yield* held.splice(0);
    }
  }
  if (!decided) {
    decide();
    yield* held.splice(0);
  }
}

/** The block scaled (a new array; the block itself when the gain is 0 dB). */
export function applyGain(block: Float32Array, scale: number): Float32Array {
  if (scale === 1) return block;
  const out = new Float32Array(block.length);
  for (let i = 0; i < block.length; i++) out[i] = block[i] * scale;
  return out;
}

function checkOptions(options: LevelNormalizationOptions): void {
  const bad = (what: string) => {
    throw new InvalidArgumentError(`Level normalisation: ${what}.`);
  };
  if (!(options.percentile > 0 && options.percentile <= 1)) bad(`percentile must be in (0, 1], got ${options.percentile}`);
  if (!(options.estimateSec > 0)) bad(`estimateSec must be positive, got ${options.estimateSec}`);
  if (!(options.maxHoldSec >= options.estimateSec)) bad(`maxHoldSec (${options.maxHoldSec}) must be at least estimateSec (${options.estimateSec})`);
  if (!(options.maxGainDb >= 0) || !(options.maxCutDb >= 0)) bad(`maxGainDb and maxCutDb must be ≥ 0, got ${options.maxGainDb} and ${options.maxCutDb}`);
}
