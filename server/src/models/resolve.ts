import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

import { InvalidArgumentError, ModelMissingError } from '../common/errors';
import { repoRoot, sharedDir } from '../common/paths';
import { EmbeddingManifestEntry, loadManifest, SegmentationManifestEntry, VariantName } from './manifest';

/** Where model files are looked up, in order: MODELS_DIR, the local cache, then ../shared/models. */
export function modelSearchDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.MODELS_DIR) dirs.push(path.resolve(process.env.MODELS_DIR));
  dirs.push(modelCacheDir());
  dirs.push(path.join(sharedDir, 'models'));
  return dirs;
}

/** The local model cache that `npm run models:fetch` fills (gitignored). */
export function modelCacheDir(): string {
  return process.env.MODEL_CACHE_DIR ? path.resolve(process.env.MODEL_CACHE_DIR) : path.join(repoRoot, 'models', 'cache');
}

/** The first search folder that holds `file` (a manifest path, or its base name). */
export function findModelFile(file: string): string | undefined {
  return findInSearchDirs(file);
}

function findInSearchDirs(file: string): string | undefined {
  for (const dir of modelSearchDirs()) {
    for (const candidate of [path.join(dir, file), path.join(dir, path.basename(file))]) {
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
  }
  return undefined;
}

export interface ResolvedEmbeddingModel {
  name: string;
  path: string;
  settings: EmbeddingManifestEntry;
  /** True when the file is not in the manifest and generic settings were assumed. */
  assumedSettings: boolean;
  /** Which compressed variant `path` is (see variants.ts); unset = the model's own file (fp32). */
  variant?: VariantName;
}

export interface ResolvedSegmentationModel {
  name: string;
  path: string;
  settings: SegmentationManifestEntry;
}

function missing(kind: string, name: string, file: string, url?: string): ModelMissingError {
  const where = modelSearchDirs()
    .map((d) => `  ${d}`)
    .join('\n');
  const fetch = url ? `Run \`npm run models:fetch -- ${name}\` (downloads ${url}), or download it yourself and` : 'Obtain it (see models/README.md) and';
  return new ModelMissingError(
    `The ${kind} model "${name}" (${file}) was not found. Looked in:\n${where}\n${fetch} put it in one of those folders (or set MODELS_DIR).`,
  );
}

/** Settings for an .onnx file given by path that the manifest does not know: CAM++-like defaults. */
const GENERIC_EMBEDDING_SETTINGS: Omit<EmbeddingManifestEntry, 'file' | 'sha256' | 'build' | 'variants' | 'untrained'> = {
  fbankRecipe: 'kaldi-default',
  windowSec: 1.5,
  hopSec: 0.75,
  minWindowSec: 0.4,
  thresholdCosine: { segmentation: 0.5, windows: 0.5 },
};

/** `nameOrPath` is a manifest name (e.g. "campplus-en-voxceleb") or a path to an .onnx file. */
export function resolveEmbeddingModel(nameOrPath?: string): ResolvedEmbeddingModel {
  const manifest = loadManifest();
  const requested = nameOrPath ?? manifest.defaults.embedding;
  const entry = manifest.embedding[requested];
  if (entry) {
    const found = findInSearchDirs(entry.file);
    if (!found && entry.build) {
      throw new ModelMissingError(
        `The speaker-embedding model "${requested}" (${entry.file}) is made here, not downloaded: build it with \`npm run models:build\` (writes it to ${modelCacheDir()}).`,
      );
    }
    if (!found) throw missing('speaker-embedding', requested, entry.file, entry.url);
    return { name: requested, path: found, settings: entry, assumedSettings: false };
  }
  const looksLikePath = requested.endsWith('.onnx') || requested.includes('/') || requested.includes(path.sep);
  if (!looksLikePath) {
    throw new InvalidArgumentError(
      `Unknown embedding model "${requested}". Known names: ${Object.keys(manifest.embedding).join(', ')}; or pass a path to an .onnx file.`,
    );
  }
  const filePath = path.resolve(requested);
  if (!existsSync(filePath))
    throw new ModelMissingError(
      `Embedding model file not found: "${requested}". Check the path, or use one of: ${Object.keys(manifest.embedding).join(', ')}.`,
    );
  // A known file under another folder (e.g. the official CAM++ downloaded by hand) keeps its manifest settings.
  const known = Object.entries(manifest.embedding).find(([, e]) => path.basename(e.file) === path.basename(filePath));
  if (known) return { name: known[0], path: filePath, settings: known[1], assumedSettings: false };
  return {
    name: path.basename(filePath, '.onnx'),
    path: filePath,
    settings: { file: filePath, ...GENERIC_EMBEDDING_SETTINGS },
    assumedSettings: true,
  };
}

export function resolveSegmentationModel(nameOrPath?: string): ResolvedSegmentationModel {
  const manifest = loadManifest();
  const requested = nameOrPath ?? manifest.defaults.segmentation;
  const entry = manifest.segmentation[requested];
  if (entry) {
    const found = findInSearchDirs(entry.file);
    if (!found) throw missing('segmentation', requested, entry.file, entry.url);
    return { name: requested, path: found, settings: entry };
  }
  const filePath = path.resolve(requested);
  if (!existsSync(filePath)) {
    throw new ModelMissingError(
      `Segmentation model not found: "${requested}". Known names: ${Object.keys(manifest.segmentation).join(', ')}; or pass a path to an .onnx file.`,
    );
  }
  return { name: path.basename(filePath, '.onnx'), path: filePath, settings: { file: filePath, sha256: '0'.repeat(64) } };
}
