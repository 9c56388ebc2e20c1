import { z } from 'zod';

/**
 * Every diarization setting with its default, in one place. Units are in the names; optional
 * fields mean "decide automatically" (no sentinels). Per-model settings (fbank recipe, window
 * length/hop, clustering threshold) come from models/manifest.json unless overridden here.
 */
export const diarizationConfigSchema = z.object({
  strategy: z.enum(['segmentation', 'windows']).default('segmentation'),
  channels: z.enum(['mix', 'separate']).default('mix'),
  segmentationModel: z.string().optional(),
  embeddingModel: z.string().optional(),
  /** ONNX Runtime intra-op threads per model; default: the machine's cores. */
  threads: z.number().int().positive().optional(),
  segmentation: z
    .object({
      /** Step between 10 s segmentation chunks: smaller is more accurate and slower. */
      chunkStepSec: z.number().positive().max(10).default(2.5),
      /** Chunks per ONNX Runtime call. */
      batchSize: z.number().int().positive().default(8),
    })
    .prefault({}),
  embedding: z
    .object({
      windowSec: z.number().positive().optional(),
      hopSec: z.number().positive().optional(),
      batchSize: z.number().int().positive().default(32),
    })
    .prefault({}),
  clustering: z
    .object({
      method: z.enum(['ahc', 'spectral']).default('ahc'),
      /** Cosine similarity above which clusters merge; default: the model manifest's calibrated value. */
      thresholdCosine: z.number().min(-1).max(1).optional(),
      numSpeakers: z.number().int().positive().optional(),
      minSpeakers: z.number().int().positive().optional(),
      maxSpeakers: z.number().int().positive().optional(),
    })
    .prefault({}),
  turns: z
    .object({
      /** Speech shorter than this is dropped (per speaker). */
      minDurationOnSec: z.number().min(0).default(0.2),
      /** Pauses shorter than this inside one speaker's speech are filled. */
      minDurationOffSec: z.number().min(0).default(0.5),
    })
    .prefault({}),
});

export type DiarizationConfig = z.infer<typeof diarizationConfigSchema>;
export type DiarizationConfigInput = z.input<typeof diarizationConfigSchema>;

export function parseDiarizationConfig(input: DiarizationConfigInput = {}): DiarizationConfig {
  return diarizationConfigSchema.parse(input);
}
