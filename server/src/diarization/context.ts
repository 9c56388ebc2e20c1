import { ProgressCallback, Stage } from '../common/progress';
import { SpeakerEmbedder } from '../embedding/embedder';
import { Segmenter } from '../segmentation/segmenter';
import { DiarizationConfig } from './config';
import { SpeakerTurn } from './types';

/**
 * Accumulates wall-clock seconds per stage. Calls of one stage that overlap (a batch queued on a worker
 * while the one before it runs) count once: the seconds are those during which at least one was in flight.
 */
export class StageTimer {
  readonly seconds: Record<Stage, number> = { decode: 0, segmentation: 0, fbank: 0, embedding: 0, clustering: 0, postprocess: 0 };
  private readonly countedUntil: Partial<Record<Stage, number>> = {};

  async time<T>(stage: Stage, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      const end = performance.now();
      const from = Math.max(start, this.countedUntil[stage] ?? 0);
      if (end > from) this.seconds[stage] += (end - from) / 1000;
      this.countedUntil[stage] = Math.max(end, this.countedUntil[stage] ?? 0);
    }
  }

  timeSync<T>(stage: Stage, work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.seconds[stage] += (performance.now() - start) / 1000;
    }
  }

  /** Wraps a block stream so that time spent waiting on it counts as decoding. */
  async *timeStream(blocks: AsyncIterable<Float32Array>): AsyncGenerator<Float32Array> {
    const it = blocks[Symbol.asyncIterator]();
    for (;;) {
      const start = performance.now();
      const next = await it.next();
      this.seconds.decode += (performance.now() - start) / 1000;
      if (next.done) return;
      yield next.value;
    }
  }
}

/** What a strategy needs: the loaded models, the settings, and where to report. */
export interface StrategyContext {
  segmenter: Segmenter;
  embedder: SpeakerEmbedder;
  config: DiarizationConfig;
  /** Clustering threshold in effect (config override or the model manifest's calibrated value). */
  thresholdCosine: number;
  timer: StageTimer;
  onProgress: ProgressCallback;
  signal?: AbortSignal;
  /** From the probe, for progress totals; the stream itself decides the real length. */
  expectedDurationSec?: number;
}

/** A strategy's answer before labels are finalised: turns by cluster index plus cluster centroids. */
export interface StrategyOutput {
  durationSec: number;
  turns: { cluster: number; startSec: number; endSec: number }[];
  /** [numClusters, dim] row-major, L2-normalised. */
  centroids: Float32Array;
  numClusters: number;
}

export type Strategy = (blocks: AsyncIterable<Float32Array>, ctx: StrategyContext) => Promise<StrategyOutput>;

export function turnsOf(output: StrategyOutput, label: (cluster: number) => string): SpeakerTurn[] {
  return output.turns.map((t) => ({ speaker: label(t.cluster), startSec: t.startSec, endSec: t.endSec }));
}
