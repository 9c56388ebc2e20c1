import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

import { repoRoot } from '../common/paths';

/** Settings that belong to one embedding model: its fbank recipe, window length/hop and clustering threshold. */
const embeddingEntry = z.object({
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive().optional(),
  url: z.string().url().optional(),
  description: z.string().optional(),
  fbankRecipe: z.string(),
  windowSec: z.number().positive(),
  hopSec: z.number().positive(),
  minWindowSec: z.number().positive(),
  /** AHC threshold (cosine) calibrated per strategy: (chunk, speaker) embeddings vs window embeddings. */
  thresholdCosine: z.object({ segmentation: z.number().min(-1).max(1), windows: z.number().min(-1).max(1) }),
});

const segmentationEntry = z.object({
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive().optional(),
  url: z.string().url().optional(),
  archiveMember: z.string().optional(),
});

const manifestSchema = z.object({
  segmentation: z.record(z.string(), segmentationEntry),
  embedding: z.record(z.string(), embeddingEntry),
  defaults: z.object({ segmentation: z.string(), embedding: z.string() }),
});

export type EmbeddingManifestEntry = z.infer<typeof embeddingEntry>;
export type SegmentationManifestEntry = z.infer<typeof segmentationEntry>;
export type ModelManifest = z.infer<typeof manifestSchema>;

export const manifestPath = path.join(repoRoot, 'models', 'manifest.json');

let cached: ModelManifest | undefined;

export function loadManifest(): ModelManifest {
  cached ??= manifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  return cached;
}
