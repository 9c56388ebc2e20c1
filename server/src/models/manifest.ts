import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

import { repoRoot } from '../common/paths';

/** Compressed variants of an embedding model (fp32 is the model's own file). */
export const VARIANT_NAMES = ['fp32', 'int8', 'fp16', 'pruned20', 'pruned40'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/**
 * A derived variant: where `npm run models:build` writes it (relative to the model cache) and the recipe it
 * follows. The build writes `<file>.build.json` beside it with the source's sha256, the recipe's hash and
 * the output's sha256; a variant is rebuilt when the source or the recipe changes, and refused at run
 * time when its build record does not match (quantized files need not be byte-identical across rebuilds).
 */
const variantEntry = z.object({
  file: z.string(),
  recipe: z.looseObject({ method: z.enum(['int8', 'fp16', 'prune']) }),
});

/** How a model without a download is made: the CAM++ export of models/toolchain (random seed without a checkpoint). */
const buildEntry = z.looseObject({ method: z.literal('export-campplus'), embeddingSize: z.number().int().positive(), seed: z.number().int() });

/** Settings that belong to one embedding model: its fbank recipe, window length/hop and clustering threshold. */
const embeddingEntry = z
  .object({
    file: z.string(),
    /** Downloaded originals: pinned sha256 (a mismatch is an error). Built models (`build`) have none. */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    build: buildEntry.optional(),
    /** Untrained weights: size/speed/graph checks only, no accuracy figures. */
    untrained: z.boolean().optional(),
    variants: z.partialRecord(z.enum(VARIANT_NAMES).exclude(['fp32']), variantEntry).optional(),
    bytes: z.number().int().positive().optional(),
    url: z.string().url().optional(),
    description: z.string().optional(),
    fbankRecipe: z.string(),
    windowSec: z.number().positive(),
    hopSec: z.number().positive(),
    minWindowSec: z.number().positive(),
    /**
     * Another entry's name: this one runs the same weights (file, hash, download, compressed variants are taken from
     * there, so they are written and built once) behind its own front end and thresholds.
     */
    sameWeightsAs: z.string().optional(),
    /**
     * Front end: before the model, each window's log fbank is shifted so the log of its mean frame energy equals
     * this (embedding/embedder.ts setWindowLevel): embeddings that do not follow the recording's level. Unset:
     * windows as computed. Another front end is another voice space (models/model-identity.ts).
     */
    windowLevelLogPower: z.number().optional(),
    /** AHC threshold (cosine) calibrated per strategy: (chunk, speaker) embeddings vs window embeddings. */
    thresholdCosine: z.object({ segmentation: z.number().min(-1).max(1), windows: z.number().min(-1).max(1) }),
    /** Identification threshold (cosine, speaker centroid vs enrolled person) from `npm run calibrate:threshold`. */
    identifyThresholdCosine: z.number().min(-1).max(1).optional(),
    /** How it was measured (FAR/FRR on the dev verification trials); written by the same command. */
    identifyThresholdCalibration: z.looseObject({ comment: z.string(), targetFar: z.number(), far: z.number(), frr: z.number() }).optional(),
  })
  .refine((e) => (e.sha256 === undefined) !== (e.build === undefined), {
    message: 'an embedding model has either a pinned sha256 (downloaded original) or a build recipe (made here), not both',
  });

const segmentationEntry = z.object({
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive().optional(),
  url: z.string().url().optional(),
  archiveMember: z.string().optional(),
  /**
   * Built by `npm run models:build` (models/toolchain/dequantize.py): `float` = the shipped INT8's weights in float,
   * `mixed` = only its convolutions and matrix products (recipe `ops`).
   */
  variants: z.record(z.string(), z.object({ file: z.string(), recipe: z.looseObject({ method: z.literal('dequantize') }) })).optional(),
});

const manifestSchema = z.object({
  segmentation: z.record(z.string(), segmentationEntry),
  embedding: z.record(z.string(), embeddingEntry),
  defaults: z.object({ segmentation: z.string(), embedding: z.string() }),
});

export type EmbeddingManifestEntry = z.infer<typeof embeddingEntry>;
export type VariantManifestEntry = z.infer<typeof variantEntry>;
export type SegmentationManifestEntry = z.infer<typeof segmentationEntry>;
export type ModelManifest = z.infer<typeof manifestSchema>;

export const manifestPath = path.join(repoRoot, 'models', 'manifest.json');

let cached: ModelManifest | undefined;

export function loadManifest(): ModelManifest {
  cached ??= parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8')));
  return cached;
}

/** The fields an entry with `sameWeightsAs` takes from the entry it names. */
const WEIGHT_FIELDS = ['file', 'sha256', 'bytes', 'url', 'build', 'untrained', 'variants'] as const;

export function parseManifest(json: unknown): ModelManifest {
  return manifestSchema.parse(withSharedWeights(json));
}

/** Copies the weight fields into every entry that names another with `sameWeightsAs` (one level: no chains). */
function withSharedWeights(json: unknown): unknown {
  const embedding = (json as { embedding?: Record<string, Record<string, unknown>> } | undefined)?.embedding;
  if (!embedding || typeof embedding !== 'object') return json;
  const resolved = Object.fromEntries(
    Object.entries(embedding).map(([name, entry]) => {
      const of = entry?.sameWeightsAs;
      if (typeof of !== 'string') return [name, entry];
      const source = embedding[of];
      if (!source || source.sameWeightsAs !== undefined) {
        throw new Error(`models/manifest.json: embedding "${name}" has sameWeightsAs "${of}", which must name an entry with weights of its own.`);
      }
      const weights = Object.fromEntries(WEIGHT_FIELDS.filter((f) => source[f] !== undefined).map((f) => [f, source[f]]));
      return [name, { ...entry, ...weights }];
    }),
  );
  return { ...(json as object), embedding: resolved };
}
