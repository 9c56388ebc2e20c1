import { z } from 'zod';

import { CLUSTERING_METHODS, clusteringSettingsShape } from '../clustering/config';
import { checkSpeakerCounts } from '../clustering/speaker-counts';
import { InvalidArgumentError } from '../common/errors';

import { DEFAULT_SEGMENTATION_VARIANT, SEGMENTATION_VARIANT_CHOICES } from '../models/segmentation-variants';
import { DEFAULT_VARIANT, VARIANT_CHOICES } from '../models/variants';

/**
 * Every diarization setting with its default, in one place. Units are in the names; optional
 * fields mean "decide automatically" (no sentinels). Per-model settings (fbank recipe, window
 * length/hop, clustering threshold) come from models/manifest.json unless overridden here.
 */
export const diarizationConfigSchema = z.object({
  /**
   * Lower pooled DER on the dev set (collar 0.25; eval:der reports both): windows 15.5 %, segmentation
   * 16.5 %. On long recordings the gap widens: on a 1-hour synthetic meeting (bench:pipeline) windows
   * finds 4 of 4 speakers (DER 3.4 %) where segmentation's AHC finds 67 (DER 13.1 %).
   */
  strategy: z.enum(['segmentation', 'windows']).default('windows'),
  channels: z.enum(['mix', 'separate']).default('mix'),
  segmentationModel: z.string().optional(),
  embeddingModel: z.string().optional(),
  /** CPU threads for inference; default: the machine's cores. */
  threads: z.number().int().positive().optional(),
  /**
   * Run segmentation and embedding on worker threads of their own (onnxruntime-node blocks the
   * thread it runs on), overlapping them with each other and with decode and fbank on the main thread.
   * Needs threads >= 2 (each model gets half).
   */
  inferenceWorkers: z.boolean().default(true),
  segmentation: z
    .object({
      /**
       * Step between 10 s segmentation chunks. Dev set, windows (collar 0.25): 10 s 15.86 %, 5 s 17.22 %, 2.5 s
       * 15.13 % at 4x the segmentation cost, so the default stays 10 s until the speed work pays for it.
       */
      chunkStepSec: z.number().positive().max(10).default(10),
      /** Chunks per ONNX Runtime call. */
      batchSize: z.number().int().positive().default(4),
      /** The shipped INT8 file or its float copy (models:build); auto = INT8 (see DEFAULT_SEGMENTATION_VARIANT). */
      variant: z.enum(SEGMENTATION_VARIANT_CHOICES).default(DEFAULT_SEGMENTATION_VARIANT),
    })
    .prefault({}),
  embedding: z
    .object({
      windowSec: z.number().positive().optional(),
      hopSec: z.number().positive().optional(),
      batchSize: z.number().int().positive().default(32),
      /**
       * Compressed variant of the embedding model (models/manifest.json `variants`, built by `npm run models:build`):
       * auto = INT8 on CPU, FP16 on GPU, FP32 when that variant is not built. Default auto (see DEFAULT_VARIANT and
       * models/report/compression.md).
       */
      variant: z.enum(VARIANT_CHOICES).default(DEFAULT_VARIANT),
    })
    .prefault({}),
  /**
   * The clustering settings of clustering/config.ts (one schema, the same defaults), with the method left
   * to the strategy and the threshold to the model manifest; speaker counts follow clustering/speaker-counts.ts.
   */
  clustering: z
    .object({
      ...clusteringSettingsShape,
      /** Default per strategy: spectral (eigengap count) for windows, AHC for (chunk, speaker) embeddings. */
      method: z.enum(CLUSTERING_METHODS).optional(),
      /** AHC: cosine similarity above which clusters merge; default: the model manifest's calibrated value. */
      thresholdCosine: z.number().min(-1).max(1).optional(),
      /**
       * Spectral count capped by AHC at the calibrated threshold. Dev set, eval:robustness: unchanged on the
       * originals (DER 15.86 %), and the DER change under the transforms drops from +5.7 to +0.9 points
       * (-10 dB), +8.4 to +6.0 (μ-law), +1.5 to -1.0 (mp3), -2.5 to +0.9 (+10 dB).
       */
      spectralCapByAhc: z.boolean().default(true),
    })
    .superRefine(checkSpeakerCounts)
    .prefault({}),
  turns: z
    .object({
      /** Speech shorter than this is dropped (per speaker). */
      minDurationOnSec: z.number().min(0).default(0.2),
      /** Pauses shorter than this inside one speaker's speech are filled. */
      minDurationOffSec: z.number().min(0).default(0.5),
      /**
       * Windows strategy, frames the segmentation marks as overlapped: the second speaker is the global
       * cluster of the chunk's other active local speaker (local-speakers.ts, pyannote's reconstruct), or
       * the nearest different speaker in time (nearest-window, the earlier behaviour, and the fallback).
       */
      overlapAssignment: z.enum(['local-speakers', 'nearest-window']).default('local-speakers'),
    })
    .prefault({}),
});

export type DiarizationConfig = z.infer<typeof diarizationConfigSchema>;
export type DiarizationConfigInput = z.input<typeof diarizationConfigSchema>;

/** Parses and checks a configuration; a bad value is an INVALID_ARGUMENT naming the field. */
export function parseDiarizationConfig(input: DiarizationConfigInput = {}): DiarizationConfig {
  const parsed = diarizationConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InvalidArgumentError(
    issue.code === 'custom' ? issue.message : `Invalid diarization setting ${issue.path.join('.') || '(config)'}: ${issue.message}.`,
  );
}

/** The clustering method in effect for a strategy when the config leaves it open. */
export function clusteringMethodFor(config: DiarizationConfig): 'ahc' | 'spectral' {
  return config.clustering.method ?? (config.strategy === 'windows' ? 'spectral' : 'ahc');
}
