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
   * Lower pooled DER on the dev set (collar 0.25; eval:der reports both): windows 12.4 %, segmentation
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
  /**
   * One gain per recording before segmentation and fbank (audio/level.ts): the speech level (the 95th percentile
   * of 20 ms frame levels over the first `estimateSec` s of non-silent audio) is raised to `targetDbfs`, never
   * lowered (`maxCutDb` 0), like the stand-in embedding model's own recipe (resemblyzer: mean RMS to -30 dBFS, increase
   * only). Opt-in (see the last sentence). Dev set (15 clips), eval:robustness, windows, collar 0.25, with today's
   * turns defaults and leading-silence trim, off → -32 dBFS: original 12.70 → 12.79 % (miss 4.41 → 4.41; collar 0
   * 21.70 → 22.17 %; segmentation strategy 16.48 → 17.05 %, miss 5.83 → 5.91); transformed (-10 dB / +10 dB / mp3 /
   * μ-law / Opus / 1.5 s silence) DER 24.01 → 18.14, 15.04 → 15.04, 18.64 → 17.37, 19.46 → 19.05, 18.60 → 16.76,
   * 12.70 → 12.79 %; ΔDER +11.31 → +5.35, +2.34 → +2.25, +5.94 → +4.58, +6.76 → +6.26, +5.90 → +3.97, 0.00 → 0.00;
   * count held 60 → 80, 80 → 80, 87 → 87, 80 → 73, 87 → 93, 100 → 100 %. Raise only, the sweep (original DER / miss;
   * −10 dB DER, ΔDER, count held; +10 dB is 15.04 % at every target, loud copies are not raised): -28 13.96 / 4.61,
   * 16.29, +2.33, 80 %; -30 13.94 / 4.42, 16.39, +2.45, 80 %; -31 13.32 / 4.42, 18.60, +5.28, 80 %; -32 12.79 / 4.41,
   * 18.14, +5.35, 80 %; -33 15.63 / 4.77, 18.67, +3.04, 87 %; -34 15.51 / 4.76, 20.62, +5.11, 80 %; -35 15.65 / 4.73,
   * 21.05, +5.39, 80 %; -36 15.45 / 4.71, 21.17, +5.71, 80 %. -32 is the one target that keeps the original within
   * 13.0 % and miss 4.5 (-30 mends −10 dB most but costs the original 1.2 points); its neighbours are not: the
   * originals move through the quiet far-field clip EN2002a (5 speakers; 21.93 % off, 27.20 / 23.32 / 48.18 % at
   * -31 / -32 / -33) and EN2001a (21.44 → 23.83 / 20.55 / 20.45 %), so -32 is a narrow point of a noisy landscape.
   * Measured before today's turns defaults (original 12.38 %): -30 dBFS 13.50 %, −10 dB 23.78 → 15.19 %; -28 / -32
   * originals 13.20 / 12.44 %. Measured and not kept: raising and lowering to -26 / -30 / -34 / -20 / -16 dBFS
   * (−10 dB ΔDER +0.32 / -0.74 / +2.68 / +2.15 / +0.65, count held 100 / 93 / 93 / 87 / 93 %, but the originals
   * 14.97 / 15.70 / 17.00 / 15.56 / 15.59 %: the loud clips lose when lowered); raising only to -26 / -20
   * (originals 12.99 / 13.80 %, −10 dB ΔDER +3.31 / +3.91); the gain on the segmentation input or the fbank alone
   * (-26 dBFS: −10 dB ΔDER +6.64 / +3.76). Kept off by default: -32 is a narrow point between neighbours
   * that cost the originals 0.6–2.9 points, and it moves turns enough that one of EN2001a's 11 transcript cues
   * leaves its main speaker (test/transcript-attribution.test.ts pins ≥ 95 %).
   */
  level: z
    .object({
      normalize: z.boolean().default(false),
      targetDbfs: z.number().max(0).default(-32),
      percentile: z.number().gt(0).max(1).default(0.95),
      estimateSec: z.number().positive().default(60),
      /** Audio held back at most while the estimate waits for non-silent audio (64 kB per second). */
      maxHoldSec: z.number().positive().default(300),
      /** Largest amplification: a -10 dB copy of the quietest dev clip (-45 dBFS) still reaches the target. */
      maxGainDb: z.number().min(0).default(30),
      /** Largest attenuation; 0: loud recordings are left as they are. */
      maxCutDb: z.number().min(0).default(0),
    })
    .refine((l) => l.maxHoldSec >= l.estimateSec, { message: 'level.maxHoldSec must be at least level.estimateSec' })
    .prefault({}),
  /**
   * Leading digital silence (within ±2 LSB of 16-bit, the segmenter's notion; diarization/anchor.ts) is dropped
   * before chunking and windowing and its duration added back to every time, so the analysis grid starts at the
   * speech: a recording with silence prepended gets the same turns, shifted (eval:robustness silence+1.5s, collar
   * 0.25: windows 15.20 → 12.70 %, ΔDER +2.50 → 0.00, count held 87 → 100 %; segmentation 18.99 → 16.48 %, count
   * held 33 → 100 %; the other transforms unchanged). Low-level noise is never dropped.
   */
  leadingSilence: z
    .object({
      /** false: analyse from the first sample, as before. */
      trim: z.boolean().default(true),
      /**
       * Dropped in whole multiples of this many samples (16 kHz); default: the embedding fbank's frame shift
       * (160 = 10 ms), so the fbank frames of what is left are frames of the untrimmed recording and a lead under
       * one step keeps the grid (three dev clips start with 1-3 near-zero samples: dev set unchanged). 1 anchors
       * at the very first non-silent sample: any amount of leading silence then gives the same answer, but those
       * three clips move (windows 12.70 → 12.52 %, collar 0 21.70 → 21.40 %: a 0.2 ms shift's noise).
       */
      stepSamples: z.number().int().positive().optional(),
    })
    .prefault({}),
  segmentation: z
    .object({
      /**
       * Step between 10 s segmentation chunks; default per strategy (chunkStepSecFor): windows 5 s, segmentation 10 s.
       * Dev set, collar 0.25, with countRounding half-up: windows 10 s 15.94 %, 7.5 s 13.59 %, 6 s 15.59 %,
       * 5 s 12.38 %, 4 s 14.53 %, 2.5 s 12.91 %; segmentation 10 s 16.48 %, 5 s 17.07 %, 2.5 s 17.69 %.
       * 5 s doubles the segmentation model's work: on 30 min of dense speech at 2 threads the run takes
       * 43.8 s instead of 33.1 s.
       */
      chunkStepSec: z.number().positive().max(10).optional(),
      /**
       * Windows strategy: chunks every 2 × chunkStepSec everywhere, and the chunk in between only where one of its
       * two neighbours holds more than one local speaker, or overlap, on the stretch they share (adaptive-step.ts).
       * Off: on 1 h of dense speech it skips 189 of the 360 in-between chunks (segmentation work −26 %), but dev DER
       * goes 12.38 → 14.23 % (collar 0.25; most of it ES2003a, whose speaker count flips) and, with the reference
       * count given, 21.34 → 25.42 % (10 s step: 25.32 %): the half step's gain is spread over all chunks, not only
       * busy ones.
       */
      adaptiveStep: z.boolean().default(false),
      /**
       * Adaptive step: a local speaker (or overlap) counts as present on that stretch from this many seconds of it.
       * Dev DER 0.1 / 0.3 / 0.5 / 0.7 s: 16.98 / 14.17 / 14.23 / 14.23 %.
       */
      adaptiveMinSpeakerSec: z.number().min(0).default(0.5),
      /**
       * Adaptive step: a stretch with at least this many seconds of silence also gets the in-between chunk (unset:
       * never). 0.2 or 0.5 s: miss 5.43 → 5.14 points, DER 15.62 % (confusion 7.63 → 9.01).
       */
      adaptiveMinSilenceSec: z.number().min(0).optional(),
      /**
       * Each 10 s chunk scaled to this RMS before the segmentation model (segmentation/segmenter.ts scaleToRms), so a
       * louder or quieter copy gets the same segmentation: the shipped INT8 decodes a quiet dev chunk 10 dB quieter
       * with 34 % of its frames changed (the float copy 0.3 %, from the instance norm's epsilon). Unset: as decoded.
       * Dev set, eval:robustness, windows, collar 0.25 (original; ΔDER and count held per transform −10 dB / +10 dB /
       * mp3 / μ-law / Opus / silence): unset 12.70 % (miss 4.41); +11.31 / +2.34 / +5.94 / +6.76 / +5.61 / 0.00 points,
       * 60 / 80 / 87 / 80 / 87 / 100 %. 0.05: 12.48 % (miss 4.42); +7.01 / +2.50 / +6.88 / +8.45 / +6.21 / 0.00,
       * 67 / 87 / 73 / 73 / 87 / 100 %. 0.1: 13.24 % (miss 4.69); 0.2: 13.23 % (miss 4.43). 0.1 with level.normalize:
       * 13.17 %; +5.93 / +0.85 / +4.61 / +6.19 / +3.69 / 0.00, 80 / 80 / 87 / 80 / 93 / 100 %. 0.1 with level.normalize
       * and the levelled embedding entry: 14.98 %; +0.66 / -0.78 / +0.78 / +7.50 / +7.41 / 0.00, 87 / 80 / 73 / 67 /
       * 80 / 100 %. Opt-in: the gain copies move less, the codec copies as much or more, on 15 clips of 30 s.
       */
      chunkRms: z.number().gt(0).max(1).optional(),
      /** Chunks per ONNX Runtime call. */
      batchSize: z.number().int().positive().default(4),
      /**
       * The shipped INT8 file, its float copy or the mixed one (convolutions float, LSTMs INT8; both from models:build);
       * auto = INT8 (see DEFAULT_SEGMENTATION_VARIANT).
       */
      variant: z.enum(SEGMENTATION_VARIANT_CHOICES).default(DEFAULT_SEGMENTATION_VARIANT),
      /**
       * A frame is speech when the powerset's non-speech probability is below this (its speakers: the most
       * likely speech class); unset: the most likely of the 7 classes, pyannote's hard decoding.
       */
      maxNonSpeechProbability: z.number().gt(0).max(1).optional(),
      /**
       * Where chunks overlap (chunkStepSec < 10), the per-frame speaker count is the chunks' mean count rounded:
       * half-up (1 of 2 chunks saying speech is speech) or half-even (pyannote's rint: it is silence, so a 5 s step
       * kept only speech both chunks agreed on, the reason 5 s once scored worse than 10 s: windows 17.46 % vs
       * 15.94 %, with half-up 12.38 %).
       */
      countRounding: z.enum(['half-even', 'half-up']).default('half-up'),
    })
    .prefault({}),
  embedding: z
    .object({
      windowSec: z.number().positive().optional(),
      hopSec: z.number().positive().optional(),
      batchSize: z.number().int().positive().default(32),
      /**
       * Windows strategy: in a stretch where one chunk shows one local speaker alone, every other interior window
       * takes the mean of its two neighbours' embeddings instead of running the model (adaptive-step.ts). Off: on
       * 1 h of dense speech it spares 761 of 2991 windows (CPU 35 → 32 s), but dev DER goes 12.38 → 12.95 % and the
       * overlap pool 30.95 → 36.75 % (collar 0.25).
       */
      interpolateSteady: z.boolean().default(false),
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
      /**
       * Windows strategy: a frame is labelled speech (the nearest window's speaker) when the powerset's non-speech
       * probability is below this, while what is embedded and clustered still follows segmentation's decoding
       * (segmentation.maxNonSpeechProbability changes both: 0.55 there gave DER 15.43 %). null: off. Dev set,
       * collar 0.25 (eval:der; rows: this, minOverlapProbability; miss / FA / confusion in points):
       *   off, off          12.38 % (4.94 / 1.43 / 6.01), collar 0 21.20 %, overlap pool 30.95 %
       *   off, 0.45         12.40 % (4.88 / 1.51 / 6.01), collar 0 21.18 %
       *   0.55, off         12.68 % (4.47 / 2.18 / 6.03), collar 0 21.72 %
       *   0.55, 0.45        12.70 % (4.41 / 2.26 / 6.03), collar 0 21.70 %, overlap pool 32.69 % (the default)
       *   0.6 / 0.7 / 0.8, 0.45   13.29 / 13.62 / 14.21 % (miss 4.39 / 4.18 / 3.88); 0.55, 0.4: 12.80 % (4.34 / 2.44 / 6.03)
       * Missed speech falls below issue 14's 4.5 for 0.3 points of DER: of the time the added speech covers, about
       * 40 % is speech the reference has (miss -0.53, false alarm +0.83 points).
       */
      maxNonSpeechProbability: z.number().gt(0).max(1).nullable().default(0.55),
      /**
       * Windows strategy: a one-speaker frame counts as overlapped (it gets a second speaker) when the powerset's
       * pair classes together reach this probability; what is embedded and clustered is unchanged. null: off
       * (overlap only where a pair class is the most likely). Dev set with maxNonSpeechProbability off: 0.2 /
       * 0.3 / 0.4 / 0.45 give DER 14.26 / 12.78 / 12.50 / 12.40 % with miss 4.74 / 4.79 / 4.81 / 4.88: the miss
       * left inside overlap is mostly out of the model's reach (three people at once in EN2002a, where both
       * chunks name the same two; one speaker found in EN2005a).
       */
      minOverlapProbability: z.number().gt(0).max(1).nullable().default(0.45),
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

/**
 * Dotted names in `input` that the schema does not know (zod drops them silently), so a tool that takes
 * settings as JSON can refuse a misspelt one instead of measuring the defaults.
 */
export function unknownSettings(input: Record<string, unknown>): string[] {
  const unknown: string[] = [];
  const sections = diarizationConfigSchema.shape as Record<string, z.ZodType>;
  for (const [key, value] of Object.entries(input)) {
    const field = sections[key];
    if (!field) {
      unknown.push(key);
      continue;
    }
    const inner = field instanceof z.ZodPrefault ? field.unwrap() : field;
    if (!(inner instanceof z.ZodObject) || !value || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const name of Object.keys(value)) if (!(name in inner.shape)) unknown.push(`${key}.${name}`);
  }
  return unknown;
}

/** Default segmentation chunk step per strategy (see the schema's figures). */
const DEFAULT_CHUNK_STEP_SEC: Record<DiarizationConfig['strategy'], number> = { windows: 5, segmentation: 10 };

/** The segmentation chunk step in effect: the configured one, else the strategy's default. */
export function chunkStepSecFor(config: DiarizationConfig): number {
  return config.segmentation.chunkStepSec ?? DEFAULT_CHUNK_STEP_SEC[config.strategy];
}

/** The clustering method in effect for a strategy when the config leaves it open. */
export function clusteringMethodFor(config: DiarizationConfig): 'ahc' | 'spectral' {
  return config.clustering.method ?? (config.strategy === 'windows' ? 'spectral' : 'ahc');
}
