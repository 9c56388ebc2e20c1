/**
 * Moves an embedded deployment (SQLite file + recordings under DATA_DIR) to PostgreSQL + S3 object
 * storage. Recordings are copied first, then every row in one transaction, so the target never holds a
 * row whose recording is missing; the source is left as it was (delete it once the new one serves).
 */
import { createReadStream, existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../common/errors';
import { isPostgresUrl, openStore, SQLITE_FILE_NAME } from '../store/database';
import { openBlobStore } from './open-blob-store';

/** The folders of DATA_DIR that hold blobs (recordings and their derivatives); the rest is local state. */
const BLOB_FOLDERS = ['uploads', 'meetings'];

export interface MigrateEmbeddedInput {
  dataDir: string;
  toDatabase: string;
  toStorage: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface MigrateEmbeddedResult {
  blobs: number;
  bytes: number;
  rows: Record<string, number>;
}

export async function migrateEmbedded(input: MigrateEmbeddedInput): Promise<MigrateEmbeddedResult> {
  const log = input.log ?? (() => undefined);
  if (!existsSync(path.join(input.dataDir, SQLITE_FILE_NAME))) {
    throw new InvalidArgumentError(
      `No embedded database (${SQLITE_FILE_NAME}) in the data folder given; pass --data-dir with the DATA_DIR of the deployment to move.`,
    );
  }
  if (!isPostgresUrl(input.toDatabase)) throw new InvalidArgumentError('--to-database must be a postgres:// URL (it may carry ?schema=name).');
  if (!input.toStorage.startsWith('s3://')) throw new InvalidArgumentError('--to-storage must be an s3://bucket[/prefix] URL.');

  const source = await openStore({ dataDir: input.dataDir });
  const target = await openStore({ databaseUrl: input.toDatabase, dataDir: input.dataDir });
  try {
    await source.migrate(); // an older embedded file gets the current schema first
    await target.migrate();
    const blobs = openBlobStore({ storageUrl: input.toStorage, dataDir: input.dataDir }, input.env);
    let count = 0;
    let bytes = 0;
    for (const { key, file, size } of await localBlobs(input.dataDir)) {
      await pipeline(createReadStream(file), blobs.createWriteStream(key));
      count += 1;
      bytes += size;
      if (count % 100 === 0) log(`copied ${count} files (${(bytes / 1e6).toFixed(1)} MB)`);
    }
    log(`copied ${count} files (${(bytes / 1e6).toFixed(1)} MB) to ${input.toStorage}`);
    const rows = await source.copyAllRowsTo(target);
    log(
      `copied rows: ${Object.entries(rows)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}`,
    );
    return { blobs: count, bytes, rows };
  } finally {
    await source.close();
    await target.close();
  }
}

async function localBlobs(dataDir: string): Promise<Array<{ key: string; file: string; size: number }>> {
  const out: Array<{ key: string; file: string; size: number }> = [];
  for (const folder of BLOB_FOLDERS) {
    const root = path.join(dataDir, folder);
    if (!existsSync(root)) continue;
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || entry.name.includes('.partial-')) continue; // a write in progress is no blob
      const file = path.join(entry.parentPath, entry.name);
      const key = path.relative(dataDir, file).split(path.sep).join('/');
      const { size } = await stat(file);
      out.push({ key, file, size });
    }
  }
  return out;
}
