import { l2Normalize } from '../vectors/math';

/**
 * Adaptive segmentation step (windows strategy, issue 14 speed): chunks every 2 × chunkStepSec everywhere,
 * plus the chunk in between only where its two neighbours show more than one local speaker, or two at
 * once, on the stretch it shares with them. The half step's DER gain comes from a second opinion at
 * chunk edges, speaker changes and overlap; a long stretch of one speaker gains little from it.
 */

/** The stretch of a chunk's frames that an in-between chunk also covers: [from, to). */
export interface FrameSpan {
  from: number;
  to: number;
}

export interface BusyOptions {
  /** A local speaker counts when it is active in at least this many frames of the span. */
  minSpeakerFrames: number;
  /** Also busy where at least this many frames of the span are silent (unset: silence does not count). */
  minSilenceFrames?: number;
}

/**
 * Whether frames [span.from, span.to) of one chunk's activity ([frames, numLocal] 0/1) hold more than one
 * local speaker (each active in at least minSpeakerFrames frames), or at least minSpeakerFrames frames
 * where two speak at once.
 */
export function isBusy(activity: Uint8Array, numLocal: number, span: FrameSpan, options: BusyOptions): boolean {
  const perSpeaker = new Int32Array(numLocal);
  let overlapped = 0;
  let silent = 0;
  for (let j = span.from; j < span.to; j++) {
    let active = 0;
    for (let k = 0; k < numLocal; k++) {
      if (activity[j * numLocal + k]) {
        perSpeaker[k]++;
        active++;
      }
    }
    if (active >= 2) overlapped++;
    if (active === 0) silent++;
  }
  if (overlapped >= options.minSpeakerFrames) return true;
  if (options.minSilenceFrames !== undefined && silent >= options.minSilenceFrames) return true;
  let speakers = 0;
  for (let k = 0; k < numLocal; k++) if (perSpeaker[k] >= options.minSpeakerFrames) speakers++;
  return speakers >= 2;
}

/** One segmented chunk: its start on the segmentation frame grid and its activity. */
export interface SegmentedChunk {
  firstFrame: number;
  activity: Uint8Array;
  /** Frames of real audio (less than framesPerChunk only at the end of a file). */
  numFrames: number;
}

/**
 * Whether the chunk starting at global frame `betweenFirst` (framesPerChunk long) is worth segmenting
 * between its neighbours `left` and `right`: true when either neighbour is busy (isBusy) on the frames
 * the in-between chunk shares with it.
 */
export function needsBetweenChunk(
  left: SegmentedChunk,
  right: SegmentedChunk,
  betweenFirst: number,
  framesPerChunk: number,
  numLocal: number,
  options: BusyOptions,
): boolean {
  const leftSpan = { from: Math.max(0, betweenFirst - left.firstFrame), to: left.numFrames };
  const rightSpan = { from: 0, to: Math.min(right.numFrames, betweenFirst + framesPerChunk - right.firstFrame) };
  return isBusy(left.activity, numLocal, leftSpan, options) || isBusy(right.activity, numLocal, rightSpan, options);
}

/**
 * Whether one of `chunks` covers global frames [from, to) with real audio and shows exactly one local
 * speaker there, alone, on every frame: a steady stretch of one voice.
 */
export function steadyIn(chunks: readonly SegmentedChunk[], numLocal: number, from: number, to: number): boolean {
  for (const chunk of chunks) {
    if (chunk.firstFrame > from || chunk.firstFrame + chunk.numFrames < to) continue;
    let who = -1;
    let steady = true;
    for (let g = from; g < to && steady; g++) {
      const j = g - chunk.firstFrame;
      let active = 0;
      let speaker = -1;
      for (let k = 0; k < numLocal; k++) {
        if (chunk.activity[j * numLocal + k]) {
          active++;
          speaker = k;
        }
      }
      if (active !== 1 || (who >= 0 && speaker !== who)) steady = false;
      who = speaker;
    }
    if (steady) return true;
  }
  return false;
}

/** An embedding window on the segmentation frame grid: frames [from, to) of speech region `region`. */
export interface WindowSpan {
  region: number;
  from: number;
  to: number;
}

/**
 * Windows whose embedding may be the mean of its two neighbours' instead of its own (1 = interpolate): an
 * interior window of a region whose neighbours are both embedded and whose whole stretch, from the
 * previous window's start to the next one's end, is steady (`steady(from, to)`). Never two in a row, so
 * every interpolated window sits between two embedded ones.
 */
export function windowsToInterpolate(windows: readonly WindowSpan[], steady: (from: number, to: number) => boolean): Uint8Array {
  const skip = new Uint8Array(windows.length);
  for (let i = 1; i + 1 < windows.length; i++) {
    const prev = windows[i - 1];
    const next = windows[i + 1];
    if (skip[i - 1] || prev.region !== windows[i].region || next.region !== windows[i].region) continue;
    if (steady(prev.from, next.to)) skip[i] = 1;
  }
  return skip;
}

/**
 * The embeddings of all windows ([skip.length, dim] row-major) from those of the embedded ones (`embedded`,
 * [windows not skipped, dim], in order): an interpolated window takes the L2-normalised sum of its neighbours.
 */
export function fillInterpolated(embedded: Float32Array, skip: Uint8Array, dim: number): Float32Array {
  const out = new Float32Array(skip.length * dim);
  for (let i = 0, k = 0; i < skip.length; i++) {
    if (skip[i]) continue;
    out.set(embedded.subarray(k * dim, (k + 1) * dim), i * dim);
    k++;
  }
  for (let i = 0; i < skip.length; i++) {
    if (!skip[i]) continue;
    const row = out.subarray(i * dim, (i + 1) * dim);
    for (let d = 0; d < dim; d++) row[d] = out[(i - 1) * dim + d] + out[(i + 1) * dim + d];
    l2Normalize(row);
  }
  return out;
}
