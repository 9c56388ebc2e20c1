import type { ServerConfig } from '../config/server-config';
import { InvalidArgumentError } from '../common/errors';
import { LocalBlobStore, type BlobStore } from './blob-store';
import { S3BlobStore } from './s3-blob-store';

/** The configured blob store: S3 when STORAGE_URL is s3://..., else files under DATA_DIR (the embedded default). */
export function openBlobStore(config: Pick<ServerConfig, 'storageUrl' | 'dataDir'>, env: NodeJS.ProcessEnv = process.env): BlobStore {
  const url = config.storageUrl?.trim();
  if (!url) return new LocalBlobStore(config.dataDir);
  if (url.startsWith('s3://')) return S3BlobStore.fromUrl(url, env);
  throw new InvalidArgumentError(
    `STORAGE_URL ${JSON.stringify(url)} is not supported: use s3://<bucket>[/<prefix>] for object storage, or leave it unset to keep files in DATA_DIR.`,
  );
}
