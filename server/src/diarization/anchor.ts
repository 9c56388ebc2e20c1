/**
 * Anchors the analysis grid at the recording's first non-silent sample: leading digital silence (people
 * joining a call, a muted start) is dropped from the decoded stream before any chunking or windowing, and
 * its duration added back to every time the strategy emits. Without this a pure time shift moves the
 * segmentation chunks and embedding windows relative to the speech, and with them the answer (issue 14's
 * `silence+1.5s` transform). Only digital silence is dropped (the segmenter's notion, DIGITAL_SILENCE_PEAK):
 * low-level noise is real audio and stays.
 */
import { ProgressCallback } from '../common/progress';
import { DIGITAL_SILENCE_PEAK } from '../segmentation/segmenter';
import { StrategyOutput } from './context';

export interface AnchoredStream {
  /** Samples of digital silence dropped before the first sample above the threshold (all of them for a silent file). */
  leadSamples: number;
  /** The decoded stream from that sample on. */
  blocks: AsyncIterable<Float32Array>;
  /** True when the whole stream was digital silence (`blocks` is then empty). */
  silent: boolean;
}

/** Index of the first sample whose magnitude exceeds `peak`, or -1. */
export function firstNonSilentSample(samples: Float32Array, peak = DIGITAL_SILENCE_PEAK): number {
  for (let i = 0; i < samples.length; i++) if (samples[i] > peak || samples[i] < -peak) return i;
  return -1;
}

export interface SkipOptions {
  /**
   * Drop whole multiples of this many samples (the fbank's frame shift): the frames of what follows are then
   * exactly frames of the untrimmed recording, and a lead shorter than one step keeps the grid where it was
   * (recordings that start with sound, or with a sample or two of near-zero, are analysed as before).
   */
  stepSamples?: number;
  /** Default DIGITAL_SILENCE_PEAK (±2 LSB of 16-bit). */
  peak?: number;
}

/**
 * Reads blocks until the first non-silent sample, discarding the silent ones as they arrive (flat memory
 * for any length of silence: at most a step's worth is kept), and returns the rest of the stream from the
 * last step boundary before that sample. Nothing past the block that holds it is read ahead.
 */
export async function skipLeadingSilence(blocks: AsyncIterable<Float32Array>, options: SkipOptions = {}): Promise<AnchoredStream> {
  const step = Math.max(1, Math.floor(options.stepSamples ?? 1));
  const peak = options.peak ?? DIGITAL_SILENCE_PEAK;
  const it = blocks[Symbol.asyncIterator]();
  let seen = 0; // samples read so far, all silent
  let tail: Float32Array = new Float32Array(0); // the last (step - 1) of them at most
  for (;;) {
    const next = await it.next();
    if (next.done) return { leadSamples: seen, blocks: (async function* () {})(), silent: true };
    const block = next.value;
    const first = firstNonSilentSample(block, peak);
    if (first < 0) {
      seen += block.length;
      tail = lastSamples(tail, block, step - 1);
      continue;
    }
    const onset = seen + first;
    const keep = onset % step; // silent samples between the step boundary and the onset, handed on
    const leadSamples = onset - keep;
    const head = keep <= first ? (first === keep ? block : block.slice(first - keep)) : concat(tail.subarray(tail.length - (keep - first)), block);
    return { leadSamples, blocks: resume(head, it), silent: false };
  }
}

function lastSamples(tail: Float32Array, block: Float32Array, count: number): Float32Array {
  if (count === 0) return tail;
  return concat(tail, block.subarray(Math.max(0, block.length - count))).slice(-count);
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `head`, then what is left of `it`; closing this closes `it` (so an abandoned run stops the decoder). */
async function* resume(head: Float32Array, it: AsyncIterator<Float32Array>): AsyncGenerator<Float32Array> {
  let done = false;
  try {
    yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await it.return?.();
  }
}

/** The strategy's answer on the recording's own clock: every turn and the duration `leadSec` later. */
export function delayOutput(output: StrategyOutput, leadSec: number): StrategyOutput {
  if (leadSec === 0) return output;
  return {
    ...output,
    durationSec: output.durationSec + leadSec,
    turns: output.turns.map((t) => ({ ...t, startSec: t.startSec + leadSec, endSec: t.endSec + leadSec })),
  };
}

/**
 * Segmentation progress over the whole recording: the chunks the dropped silence would have taken
 * (`skippedChunks`) count as done from the start, so the bar starts where the speech does and ends full.
 */
export function progressPastSilence(onProgress: ProgressCallback, skippedChunks: number): ProgressCallback {
  if (skippedChunks <= 0) return onProgress;
  return (event) =>
    onProgress(event.stage === 'segmentation' ? { ...event, completed: event.completed + skippedChunks, total: event.total + skippedChunks } : event);
}
