/** What both strategies share: the streamed chunk + fbank front end, the clustering call, frames → turns. */
import { TARGET_SAMPLE_RATE } from '../audio/sample-rate';
import { clusterEmbeddings, ClusteringInput, ClusteringResult } from '../clustering';
import { OnlineFbank } from '../features/fbank';
import { chunkStepSecFor, clusteringMethodFor } from './config';
import { StrategyContext, StrategyOutput } from './context';
import { FrameMapper } from './frames';
import { AudioChunk, chunkAudio, FbankTimeline } from './stream';
import { activityToTurns } from './turns';

export interface StreamedInput {
  chunks: AsyncGenerator<AudioChunk>;
  fbank: FbankTimeline;
  frames: FrameMapper;
  /** A whole number of segmentation frames, so chunk frames land exactly on the global grid. */
  stepSamples: number;
  /** For progress totals (0 when the duration is unknown). */
  expectedChunks: number;
}

/** Decoded blocks → segmentation chunks, feeding the streamed fbank on the way. */
export function streamChunks(blocks: AsyncIterable<Float32Array>, ctx: StrategyContext): StreamedInput {
  const { segmenter, embedder, config, timer } = ctx;
  const recipe = embedder.frontEnd.recipe;
  const frames = new FrameMapper(segmenter, recipe);
  const windowSamples = segmenter.windowSamples;
  const stepSamples = Math.max(1, Math.round((chunkStepSecFor(config) * TARGET_SAMPLE_RATE) / frames.segShift)) * frames.segShift;
  const expectedChunks = ctx.expectedDurationSec ? Math.max(1, Math.ceil((ctx.expectedDurationSec * TARGET_SAMPLE_RATE - windowSamples) / stepSamples) + 1) : 0;
  const fbank = new FbankTimeline(new OnlineFbank(recipe), recipe.numMelBins);
  const chunks = chunkAudio(timer.timeStream(blocks), {
    windowSamples,
    stepSamples,
    lookaheadSamples: Math.round((recipe.sampleRate * recipe.frameLengthMs) / 1000),
    onBlock: (block) => timer.timeSync('fbank', () => fbank.accept(embedder.prepareSamples(block))),
    onEnd: () => timer.timeSync('fbank', () => fbank.finish()),
  });
  return { chunks, fbank, frames, stepSamples, expectedChunks };
}

/**
 * Hands chunks to `process` in batches of `batchSize` (the last may be smaller), awaiting each, so
 * decoding waits for inference (back-pressure). Returns the number of samples in the recording.
 */
export async function processInBatches(chunks: AsyncIterable<AudioChunk>, batchSize: number, process: (batch: AudioChunk[]) => Promise<void>): Promise<number> {
  let totalSamples = 0;
  let batch: AudioChunk[] = [];
  for await (const chunk of chunks) {
    totalSamples = Math.max(totalSamples, chunk.startSample + chunk.validSamples);
    batch.push(chunk);
    if (batch.length === batchSize) {
      await process(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await process(batch);
  return totalSamples;
}

/**
 * processInBatches with the model's part of each batch started ahead: `start` (the segmentation run) for
 * a batch is called as soon as its chunks are cut, before `finish` (bookkeeping, scanning, handing windows to
 * the embedding) runs for the batch before it, so the model's worker always has the next batch queued while
 * this thread decodes, computes fbank and waits on the embedding. Batches, their order and what `finish`
 * sees are those of processInBatches: only the waiting moves. At most two batches are held.
 */
export async function processInBatchesAhead<T>(
  chunks: AsyncIterable<AudioChunk>,
  batchSize: number,
  start: (batch: AudioChunk[]) => Promise<T>,
  finish: (batch: AudioChunk[], started: T) => Promise<void>,
): Promise<number> {
  let pending: { batch: AudioChunk[]; started: Promise<T> } | undefined;
  const finishPending = async (): Promise<void> => {
    if (!pending) return;
    const { batch, started } = pending;
    pending = undefined;
    await finish(batch, await started);
  };
  const totalSamples = await processInBatches(chunks, batchSize, async (batch) => {
    const started = start(batch);
    // A failure surfaces when finishPending awaits it, not as an unhandled rejection meanwhile.
    started.catch(() => undefined);
    await finishPending().catch(async (error: unknown) => {
      await started.catch(() => undefined);
      throw error;
    });
    pending = { batch, started };
  });
  await finishPending();
  return totalSamples;
}

/** Clusters with the configuration in effect (method per strategy, calibrated threshold, speaker counts). */
export async function clusterSpeakers(input: ClusteringInput, ctx: StrategyContext): Promise<ClusteringResult> {
  const { config } = ctx;
  const result = await ctx.timer.time('clustering', async () =>
    clusterEmbeddings(
      input,
      { ...config.clustering, method: clusteringMethodFor(config), thresholdCosine: ctx.thresholdCosine },
      // A cancelled job stops between clustering steps; long clusterings report how far they are.
      { signal: ctx.signal, onProgress: ctx.onProgress },
    ),
  );
  ctx.onProgress({ stage: 'clustering', completed: 1, total: 1 });
  return result;
}

/**
 * Embeds batches while the caller decodes and segments the next ones, with at most one batch in
 * flight: `submit` waits for the previous batch before starting this one, so results land in order
 * and memory stays bounded. `drain` waits for the last one (and rethrows its failure).
 */
export class EmbeddingPipeline {
  private inFlight: Promise<void> = Promise.resolve();

  async submit<T>(embed: () => Promise<T>, onEmbedded: (result: T) => void): Promise<void> {
    await this.inFlight;
    this.inFlight = embed().then(onEmbedded);
    // Surface a failure at the next submit or drain rather than as an unhandled rejection in between.
    this.inFlight.catch(() => undefined);
  }

  drain(): Promise<void> {
    return this.inFlight;
  }
}

/** Per-cluster frame activity on the segmentation grid → smoothed turns clipped to the recording. */
export function clusterTurns(active: Uint8Array[], frames: FrameMapper, ctx: StrategyContext, durationSec: number): StrategyOutput['turns'] {
  const { minDurationOnSec, minDurationOffSec } = ctx.config.turns;
  return active.flatMap((a, cluster) =>
    activityToTurns(a, String(cluster), frames.segGrid, minDurationOnSec, minDurationOffSec).map((t) => ({
      cluster,
      startSec: Math.max(0, t.startSec),
      endSec: Math.min(durationSec, t.endSec),
    })),
  );
}
