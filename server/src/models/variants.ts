/**
 * Compressed variants of an embedding model (INT8, FP16, pruned) and the run-time choice between them.
 *
 * `npm run models:build` (models/toolchain, Python) writes each variant into the model cache with a build
 * record `<file>.build.json`: the source's sha256, the recipe's hash and the output's sha256. A variant is
 * used only when its record matches the manifest (same source, same recipe) and the file matches its
 * record; otherwise an explicit choice fails naming the command that rebuilds it, and `auto` falls back
 * to FP32 with a log line saying why.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ModelMismatchError, ModelMissingError } from '../common/errors';
import { VARIANT_NAMES, VariantName } from './manifest';
import { findModelFile, ResolvedEmbeddingModel } from './resolve';
import { sha256FileSync } from '../common/sha256';

export { VARIANT_NAMES, type VariantName };
export const VARIANT_CHOICES = [...VARIANT_NAMES, 'auto'] as const;
export type VariantChoice = (typeof VARIANT_CHOICES)[number];

/**
 * The engine's default: `auto` (INT8 on CPU, FP16 on GPU, FP32 when not built). The stand-in's INT8 is within
 * every target of models/report/compression.md: EER 0.72 % vs 0.67 %, cosine to FP32 0.9992 (0.9988 on held-out
 * calibration windows at -12/0/+12/+24 dB alike), 28.8 % of the size, 1.8x faster. Per-channel weight scales and
 * int8 blocks of 32 for the first LSTM's recurrent weights took the cosine from 0.994 to 0.999; at 0.994 INT8 lost a speaker on
 * pyannote_sample as a 6-channel 48 kHz downmix (test/pipeline.test.ts). That was not a level effect (the old
 * INT8's cosine was 0.993-0.994 at every level): the spectral eigengap's speaker count on that 30 s clip is a
 * knife edge that FP32 also falls off (1 speaker at +10 dB and +11.5 dB), and any perturbation of the
 * embeddings rerolls it. On 47 level/rate/codec variants of the clip the old INT8 failed DER < 0.3 on 11,
 * the new INT8 on 2 and FP32 on 2 (one in common).
 */
export const DEFAULT_VARIANT: VariantChoice = 'auto';

export const BUILD_COMMAND = 'npm run models:build';

/** What `npm run models:build` writes beside each file it makes. */
export interface BuildRecord {
  /** sha256 of the file the variant was derived from (for an export: of the code that made it). */
  sourceSha256: string;
  /** sha256 of the canonical JSON of the recipe (see canonicalJson). */
  recipeHash: string;
  /** sha256 of the built file. */
  sha256: string;
  bytes: number;
  [key: string]: unknown;
}

/** JSON with object keys sorted and no spaces: Python's json.dumps(sort_keys=True, separators=(",", ":")). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function recipeHash(recipe: unknown): string {
  return createHash('sha256').update(canonicalJson(recipe)).digest('hex');
}

export function buildRecordPath(modelPath: string): string {
  return `${modelPath}.build.json`;
}

export function readBuildRecord(modelPath: string): BuildRecord | undefined {
  const recordPath = buildRecordPath(modelPath);
  if (!existsSync(recordPath)) return undefined;
  try {
    return JSON.parse(readFileSync(recordPath, 'utf8')) as BuildRecord;
  } catch (error) {
    throw new ModelMismatchError(`Build record ${recordPath} is not valid JSON (${(error as Error).message}). Rebuild with \`${BUILD_COMMAND}\`.`);
  }
}

/** Why a variant file cannot be used, or undefined when it can. */
export function variantProblem(file: string, expectedSourceSha: string | undefined, recipe: unknown, label: string): string | undefined {
  const record = readBuildRecord(file);
  if (!record) return `${label} (${file}) has no build record ${path.basename(buildRecordPath(file))}`;
  if (record.recipeHash !== recipeHash(recipe)) return `${label} was built with another recipe than the manifest's (stale)`;
  if (expectedSourceSha !== undefined && record.sourceSha256 !== expectedSourceSha) {
    return `${label} was built from a source with sha256 ${record.sourceSha256.slice(0, 12)}…, but the manifest's source has ${expectedSourceSha.slice(0, 12)}… (hash mismatch)`;
  }
  const actual = sha256FileSync(file);
  if (actual !== record.sha256)
    return `${label} (${file}) has sha256 ${actual.slice(0, 12)}…, not the ${record.sha256.slice(0, 12)}… its build record says (changed or truncated)`;
  return undefined;
}

/** The sha256 a variant's build record must name as its source: the pinned hash, or the built FP32 file's. */
function sourceSha(base: ResolvedEmbeddingModel): string | undefined {
  if (base.settings.sha256) return base.settings.sha256;
  if (base.settings.build) return readBuildRecord(base.path)?.sha256;
  return undefined;
}

export interface VariantSelection {
  model: ResolvedEmbeddingModel;
  variant: VariantName;
  /** Why this variant (for `auto`: the rule that picked it, or why it fell back). */
  reason: string;
}

/**
 * Picks the file for `choice` of an already resolved model. `auto`: INT8 on CPU, FP16 when an accelerated
 * provider will run it, FP32 when that variant is missing or unusable.
 */
export function selectVariant(base: ResolvedEmbeddingModel, choice: VariantChoice, options: { accelerated: boolean }): VariantSelection {
  const variants = base.settings.variants ?? {};
  if (choice === 'fp32') return { model: { ...base, variant: 'fp32' }, variant: 'fp32', reason: 'requested' };
  if (choice === 'auto') {
    const wanted: VariantName = options.accelerated ? 'fp16' : 'int8';
    const why = options.accelerated ? 'GPU provider available' : 'CPU inference';
    const entry = variants[wanted as Exclude<VariantName, 'fp32'>];
    if (base.assumedSettings || !entry) {
      return {
        model: { ...base, variant: 'fp32' },
        variant: 'fp32',
        reason: `auto: ${why} would take ${wanted}, but ${base.name} has no ${wanted} variant in models/manifest.json; using fp32`,
      };
    }
    const file = findModelFile(entry.file);
    if (!file)
      return {
        model: { ...base, variant: 'fp32' },
        variant: 'fp32',
        reason: `auto: ${why} → ${wanted}, but it is not built (\`${BUILD_COMMAND}\` builds it); using fp32`,
      };
    const problem = variantProblem(file, sourceSha(base), entry.recipe, `${wanted} of ${base.name}`);
    if (problem) return { model: { ...base, variant: 'fp32' }, variant: 'fp32', reason: `auto: ${problem}; using fp32 (rebuild with \`${BUILD_COMMAND}\`)` };
    return { model: { ...base, path: file, variant: wanted }, variant: wanted, reason: `auto: ${why} → ${wanted}` };
  }
  const entry = variants[choice];
  if (base.assumedSettings || !entry) {
    const known = ['fp32', ...Object.keys(variants)].join(', ');
    throw new ModelMissingError(
      `${base.name} has no "${choice}" variant (models/manifest.json lists: ${known}). Use --variant fp32, or add the variant to the manifest and run \`${BUILD_COMMAND}\`.`,
    );
  }
  const file = findModelFile(entry.file);
  if (!file)
    throw new ModelMissingError(
      `The ${choice} variant of ${base.name} (${entry.file}) is not built. Build it with \`${BUILD_COMMAND}\` (writes it to models/cache), or choose --variant fp32.`,
    );
  const problem = variantProblem(file, sourceSha(base), entry.recipe, `${choice} of ${base.name}`);
  if (problem) throw new ModelMismatchError(`${problem}. Rebuild it with \`${BUILD_COMMAND}\`.`);
  return { model: { ...base, path: file, variant: choice }, variant: choice, reason: 'requested' };
}
