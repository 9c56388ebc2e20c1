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
}

/**
 * Whether frames [span.from, span.to) of one chunk's activity ([frames, numLocal] 0/1) hold more than one
 * local speaker (each active in at least minSpeakerFrames frames), or at least minSpeakerFrames frames
 * where two speak at once.
 */
export function isBusy(activity: Uint8Array, numLocal: number, span: FrameSpan, options: BusyOptions): boolean {
  const perSpeaker = new Int32Array(numLocal);
  let overlapped = 0;
  for (let j = span.from; j < span.to; j++) {
    let active = 0;
    for (let k = 0; k < numLocal; k++) {
      if (activity[j * numLocal + k]) {
        perSpeaker[k]++;
        active++;
      }
    }
    if (active >= 2) overlapped++;
  }
  if (overlapped >= options.minSpeakerFrames) return true;
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
