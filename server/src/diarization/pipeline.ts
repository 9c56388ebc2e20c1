import os from 'node:os';
import path from 'node:path';

import { AudioInfo, decodeAudio, normalizeLevel, probeAudio, TARGET_SAMPLE_RATE } from '../audio';
import { InvalidArgumentError } from '../common/errors';
import { noProgress, ProgressCallback } from '../common/progress';
import { SpeakerEmbedder } from '../embedding/embedder';
import { meanEmbedding } from '../vectors/math';
import { resolveEmbeddingModel, resolveSegmentationModel } from '../models/resolve';
import { selectSegmentationVariant } from '../models/segmentation-variants';
import { Segmenter } from '../segmentation/segmenter';
import { delayOutput, progressPastSilence, skipLeadingSilence } from './anchor';
import { chunkStepSecFor, DiarizationConfig, DiarizationConfigInput, parseDiarizationConfig } from './config';
import { Strategy, StrategyContext, StrategyOutput, StageTimer } from './context';
import { DiarizationResult, DiarizedSpeaker } from './result';
import { diarizeBySegmentation } from './segmentation-strategy';
import { sortTurns, speakerLabel } from './turns';
import { SpeakerTurn } from './types';
import { diarizeByWindows } from './windows-strategy';

/** Strategies by name; an unknown name fails with the list of known ones (see config schema). */
export const strategies: Record<DiarizationConfig['strategy'], Strategy> = {
  segmentation: diarizeBySegmentation,
  windows: diarizeByWindows,
};

export interface DiarizeOptions {
  /** RTTM file-id; default: the input's base name without extension. */
  fileId?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Per-call overrides (speaker counts, strategy, …) on top of the Diarizer's configuration. */
  overrides?: DiarizationConfigInput;
}

export interface DiarizerOptions {
  log?: (line: string) => void;
}

/** Loads the models once and diarizes any number of recordings with them. */
export class Diarizer {
  private constructor(
    readonly config: DiarizationConfig,
    readonly segmenter: Segmenter,
    readonly embedder: SpeakerEmbedder,
    private readonly defaultThresholdCosine: { segmentation: number; windows: number },
  ) {}

  static async create(configInput: DiarizationConfigInput = {}, options: DiarizerOptions = {}): Promise<Diarizer> {
    const config = parseDiarizationConfig(configInput);
    const threads = config.threads ?? os.availableParallelism();
    // With workers the two models run side by side, so they split the threads; with one thread there is nothing to split.
    const inWorker = config.inferenceWorkers && threads >= 2;
    const threadsPerModel = inWorker ? Math.floor(threads / 2) : threads;
    const embeddingModel = resolveEmbeddingModel(config.embeddingModel);
    if (embeddingModel.assumedSettings) {
      options.log?.(
        `${embeddingModel.path} is not in models/manifest.json: assuming CAM++ settings (fbank ${embeddingModel.settings.fbankRecipe}, ${embeddingModel.settings.windowSec} s windows, threshold ${embeddingModel.settings.thresholdCosine.windows})`,
      );
    }
    const settings = embeddingModel.settings;
    const embedder = await SpeakerEmbedder.loadNamed(config.embeddingModel, config.embedding.variant, {
      settings: { windowSec: config.embedding.windowSec ?? settings.windowSec, hopSec: config.embedding.hopSec ?? settings.hopSec },
      intraOpThreads: threadsPerModel,
      batchSize: config.embedding.batchSize,
      log: options.log,
      inWorker,
    });
    const segmentation = selectSegmentationVariant(resolveSegmentationModel(config.segmentationModel), config.segmentation.variant);
    if (config.segmentation.variant === 'auto')
      options.log?.(`segmentation model ${segmentation.model.name}: variant ${segmentation.variant} (${segmentation.reason})`);
    const segmenter = await Segmenter.load(segmentation.model, { intraOpThreads: threadsPerModel, log: options.log, inWorker, variant: segmentation.variant });
    return new Diarizer(config, segmenter, embedder, settings.thresholdCosine);
  }

  /** "Who spoke when" for one recording in any format ffmpeg reads, streamed from disk. */
  async diarizeFile(filePath: string, options: DiarizeOptions = {}): Promise<DiarizationResult> {
    const config = options.overrides ? parseDiarizationConfig(mergeConfig(this.config, options.overrides)) : this.config;
    const info = await probeAudio(filePath);
    const fileId = options.fileId ?? path.basename(filePath, path.extname(filePath));
    const timer = new StageTimer();
    const ctx: StrategyContext = {
      segmenter: this.segmenter,
      embedder: this.embedder,
      config,
      thresholdCosine: config.clustering.thresholdCosine ?? this.defaultThresholdCosine[config.strategy],
      timer,
      onProgress: options.onProgress ?? noProgress,
      signal: options.signal,
      expectedDurationSec: info.durationSec,
    };

    if (config.channels === 'separate') {
      if (info.channels < 2)
        throw new InvalidArgumentError(`--channels separate needs a recording with 2+ channels; "${filePath}" has ${info.channels}. Use --channels mix.`);
      return this.diarizeChannels(filePath, fileId, info, ctx);
    }
    const output = await this.anchored(decodeAudio(filePath, { signal: options.signal, info }), ctx);
    return this.toResult(fileId, config, output, timer);
  }

  /** Each channel is one party (stereo call recordings): speech per channel, labelled by channel. */
  private async diarizeChannels(filePath: string, fileId: string, info: AudioInfo, ctx: StrategyContext): Promise<DiarizationResult> {
    const turns: SpeakerTurn[] = [];
    const speakers: DiarizedSpeaker[] = [];
    let durationSec = 0;
    for (let channel = 0; channel < info.channels; channel++) {
      const channelCtx: StrategyContext = {
        ...ctx,
        config: { ...ctx.config, clustering: { ...ctx.config.clustering, numSpeakers: 1, minSpeakers: undefined, maxSpeakers: undefined } },
      };
      const output = await this.anchored(decodeAudio(filePath, { channel, signal: ctx.signal, info }), channelCtx);
      durationSec = Math.max(durationSec, output.durationSec);
      const label = `CHANNEL_${channel}`;
      const channelTurns = output.turns.map((t) => ({ speaker: label, startSec: t.startSec, endSec: t.endSec }));
      if (channelTurns.length === 0) continue;
      turns.push(...channelTurns);
      speakers.push({ label, speechSec: sumSec(channelTurns), centroid: Array.from(meanEmbedding(output.centroids, this.embedder.dim)) });
    }
    return {
      fileId,
      durationSec,
      numSpeakers: speakers.length,
      turns: sortTurns(turns),
      speakers,
      strategy: ctx.config.strategy,
      channels: 'separate',
      embeddingModel: this.embedder.name,
      embeddingDim: this.embedder.dim,
      timingsSec: ctx.timer.seconds,
    };
  }

  /**
   * Runs the strategy from the first non-silent sample (anchor.ts, config `leadingSilence`): leading digital
   * silence is dropped before chunking and windowing, in whole fbank frame shifts, and its duration added back
   * to every turn and to the duration, so a recording with silence prepended gets the same turns, shifted.
   * Progress still spans the whole recording.
   */
  private async anchored(blocks: AsyncIterable<Float32Array>, ctx: StrategyContext): Promise<StrategyOutput> {
    const { trim, stepSamples } = ctx.config.leadingSilence;
    if (!trim) return strategies[ctx.config.strategy](this.levelled(blocks, ctx), ctx);
    const step = stepSamples ?? Math.round((TARGET_SAMPLE_RATE * ctx.embedder.frontEnd.recipe.frameShiftMs) / 1000);
    const { leadSamples, blocks: rest, silent } = await ctx.timer.time('decode', () => skipLeadingSilence(blocks, { stepSamples: step }));
    const leadSec = leadSamples / TARGET_SAMPLE_RATE;
    const skippedChunks = Math.round(leadSec / chunkStepSecFor(ctx.config));
    if (silent) ctx.onProgress({ stage: 'segmentation', completed: Math.max(1, skippedChunks), total: Math.max(1, skippedChunks) });
    const expected = ctx.expectedDurationSec;
    const anchoredCtx: StrategyContext = {
      ...ctx,
      expectedDurationSec: expected ? Math.max(0, expected - leadSec) : expected,
      onProgress: progressPastSilence(ctx.onProgress, skippedChunks),
    };
    const output = await strategies[ctx.config.strategy](this.levelled(rest, anchoredCtx), anchoredCtx);
    return delayOutput(output, leadSec);
  }

  /** The decoded stream; with `level.normalize` scaled by one gain once the recording's level is measured (audio/level.ts). */
  private levelled(blocks: AsyncIterable<Float32Array>, ctx: StrategyContext): AsyncIterable<Float32Array> {
    const level = ctx.config.level;
    return level.normalize ? normalizeLevel(blocks, level) : blocks;
  }

  private toResult(fileId: string, config: DiarizationConfig, output: StrategyOutput, timer: StageTimer): DiarizationResult {
    // Speaker labels by first appearance.
    const firstSeen = new Map<number, number>();
    const byStart = [...output.turns].sort((a, b) => a.startSec - b.startSec);
    for (const t of byStart) if (!firstSeen.has(t.cluster)) firstSeen.set(t.cluster, firstSeen.size);
    const turns = sortTurns(byStart.map((t) => ({ speaker: speakerLabel(firstSeen.get(t.cluster)!), startSec: round3(t.startSec), endSec: round3(t.endSec) })));
    const dim = this.embedder.dim;
    const speakers: DiarizedSpeaker[] = [...firstSeen.entries()].map(([cluster, index]) => {
      const label = speakerLabel(index);
      return {
        label,
        speechSec: round3(sumSec(turns.filter((t) => t.speaker === label))),
        centroid: Array.from(output.centroids.subarray(cluster * dim, (cluster + 1) * dim)),
      };
    });
    return {
      fileId,
      durationSec: round3(output.durationSec),
      numSpeakers: speakers.length,
      turns,
      speakers,
      strategy: config.strategy,
      channels: 'mix',
      embeddingModel: this.embedder.name,
      embeddingDim: dim,
      timingsSec: timer.seconds,
    };
  }

  async release(): Promise<void> {
    await this.embedder.release();
    await this.segmenter.release();
  }
}

function mergeConfig(base: DiarizationConfig, overrides: DiarizationConfigInput): DiarizationConfigInput {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    merged[key] = value && typeof value === 'object' && current && typeof current === 'object' ? { ...current, ...value } : value;
  }
  return merged as DiarizationConfigInput;
}

function sumSec(turns: SpeakerTurn[]): number {
  return turns.reduce((s, t) => s + (t.endSec - t.startSec), 0);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
