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

/**
 * Reads blocks until the first non-silent sample, discarding the silent ones as they arrive (flat memory
 * for any length of silence), and returns the rest of the stream starting at that sample. Nothing past
 * the block that holds it is read ahead.
 */
export async function skipLeadingSilence(blocks: AsyncIterable<Float32Array>, peak = DIGITAL_SILENCE_PEAK): Promise<AnchoredStream> {
  const it = blocks[Symbol.asyncIterator]();
  let leadSamples = 0;
  for (;;) {
    const next = await it.next();
    if (next.done) return { leadSamples, blocks: (async function* () {})(), silent: true };
    const first = firstNonSilentSample(next.value, peak);
    if (first < 0) {
      leadSamples += next.value.length;
      continue;
    }
    return { leadSamples: leadSamples + first, blocks: resume(first === 0 ? next.value : next.value.slice(first), it), silent: false };
  }
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
