import { createHash } from 'node:crypto';

import { sha256File } from '../common/sha256';
import { readOnnxMetadata } from './onnx-metadata';
import { resolveEmbeddingModel } from './resolve';

/** Identity of the speaker-embedding model: every stored embedding records it. */
export interface ModelIdentity {
  name: string;
  /** sha256 of the model file; of the file's sha256 and the front end when the manifest changes the front end (windowLevelLogPower). */
  hash: string;
}

/**
 * The identity of the embedding model `nameOrPath` resolves to, read from its file without loading
 * it (an API process with REDIS_URL never loads the engine, yet tags and matches embeddings).
 * The base model's file identifies the voice space: its compressed variants (int8, fp16, pruned)
 * are copies of the same weights whose embeddings agree with it (models/report), so stored
 * embeddings stay comparable when only the variant changes; another model is another space, and so is the same
 * file behind another front end (a manifest entry with windowLevelLogPower).
 */
export async function embeddingModelIdentity(nameOrPath?: string): Promise<ModelIdentity & { dim?: number }> {
  const resolved = resolveEmbeddingModel(nameOrPath);
  const [fileHash, metadata] = await Promise.all([sha256File(resolved.path), readOnnxMetadata(resolved.path)]);
  const level = resolved.settings.windowLevelLogPower;
  const hash = level === undefined ? fileHash : createHash('sha256').update(`${fileHash} windowLevelLogPower=${level}`).digest('hex');
  const dim = Number(metadata.output_dim);
  return { name: resolved.name, hash, ...(Number.isInteger(dim) && dim > 0 ? { dim } : {}) };
}
