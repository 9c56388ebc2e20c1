/**
 * Where recordings and their derivatives (playable copy, peaks) live. Keys are relative,
 * slash-separated paths such as `uploads/<id>/original.mp3`; only `absolutePath` assumes a local
 * disk; tools that need a file use `withLocalFile`, which object stores (s3-blob-store.ts) implement.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable, type Readable } from 'node:stream';
import { InvalidArgumentError } from '../common/errors';

export interface BlobStat {
  bytes: number;
  modifiedAt: Date;
}

/** Inclusive byte offsets, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  /** The blob's path on this machine's disk (local stores only), for tools that need a file (ffmpeg). */
  absolutePath(key: string): string;
  /**
   * Runs `use` with a file on this machine's disk holding the blob (ffmpeg and ffprobe need one): the
   * blob itself for local stores, a streamed download removed afterwards for object stores.
   */
  withLocalFile<T>(key: string, use: (file: string) => Promise<T>): Promise<T>;
  /**
   * A stream that stores the blob. It appears under `key` only once the stream has finished
   * (`'finish'`); destroying the stream before that leaves nothing behind.
   */
  createWriteStream(key: string): Writable;
  /** The blob's bytes, or the inclusive `range` of them; errors with code ENOENT when it is missing. */
  createReadStream(key: string, range?: ByteRange): Readable;
  /** Size and modification time; undefined when there is no such blob. */
  stat(key: string): Promise<BlobStat | undefined>;
  /** Removes one blob; no error when it is already gone. */
  remove(key: string): Promise<void>;
  /** Removes every blob under the folder `prefix` (e.g. `uploads/<id>`); no error when there is none. */
  removePrefix(prefix: string): Promise<void>;
  /** Every stored blob under the folder `prefix` (not writes in progress); [] when there is none. */
  list(prefix: string): Promise<Array<BlobStat & { key: string }>>;
  /**
   * Removes writes under `prefix` that were abandoned (a killed process) and untouched since
   * `olderThan`: partial files on disk, unfinished multipart uploads on S3. Returns how many.
   */
  removeStalePartials(prefix: string, olderThan: Date): Promise<number>;
}

/** Suffix of the temporary file a write goes to before it is renamed into place. */
const PARTIAL_SUFFIX = '.partial';

/**
 * Checks that a key is a plain relative path that stays inside the store (no `..`, no absolute
 * paths, no backslashes or empty segments) and returns its segments.
 */
export function checkKey(key: string, what = 'key'): string[] {
  if (typeof key !== 'string' || key.length === 0)
    throw new InvalidArgumentError(`A blob ${what} must be a non-empty relative path, received ${JSON.stringify(key)}.`);
  const segments = key.split('/');
  const bad = key.includes('\\') || key.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..');
  if (bad || path.isAbsolute(key)) {
    throw new InvalidArgumentError(
      `Blob ${what} ${JSON.stringify(key)} is not allowed: use a relative path of non-empty segments separated by "/", without "." or ".." (it must stay inside the store).`,
    );
  }
  if (segments.some((s) => s.includes(`${PARTIAL_SUFFIX}-`))) {
    throw new InvalidArgumentError(`Blob ${what} ${JSON.stringify(key)} contains "${PARTIAL_SUFFIX}-", which is reserved for writes in progress.`);
  }
  return segments;
}

/** A blob store in a folder on the local disk (the embedded default: DATA_DIR). */
export class LocalBlobStore implements BlobStore {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir);
  }

  absolutePath(key: string): string {
    const full = path.join(this.rootDir, ...checkKey(key));
    // checkKey already rules out escapes; this guards against a platform path quirk.
    if (!full.startsWith(this.rootDir + path.sep)) throw new InvalidArgumentError(`Blob key ${JSON.stringify(key)} leads outside the store.`);
    return full;
  }

  withLocalFile<T>(key: string, use: (file: string) => Promise<T>): Promise<T> {
    return use(this.absolutePath(key));
  }

  createWriteStream(key: string): Writable {
    return new AtomicFileWriter(this.absolutePath(key));
  }

  createReadStream(key: string, range?: ByteRange): Readable {
    const file = this.absolutePath(key);
    if (range && !(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
      throw new InvalidArgumentError(`Byte range ${JSON.stringify(range)} is invalid: start and end are inclusive offsets with 0 <= start <= end.`);
    }
    const stream: ReadStream = range ? createReadStream(file, { start: range.start, end: range.end }) : createReadStream(file);
    return stream;
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    try {
      const s = await stat(this.absolutePath(key));
      return s.isFile() ? { bytes: s.size, modifiedAt: s.mtime } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await unlink(this.absolutePath(key));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  async removePrefix(prefix: string): Promise<void> {
    await rm(this.folderOf(prefix), { recursive: true, force: true });
  }

  async list(prefix: string): Promise<Array<BlobStat & { key: string }>> {
    const found: Array<BlobStat & { key: string }> = [];
    for (const { file, relative } of await this.filesUnder(prefix)) {
      if (relative.includes(PARTIAL_SUFFIX + '-')) continue;
      const s = await stat(file).catch(() => undefined); // removed meanwhile
      if (s?.isFile()) found.push({ key: relative, bytes: s.size, modifiedAt: s.mtime });
    }
    return found;
  }

  async removeStalePartials(prefix: string, olderThan: Date): Promise<number> {
    let removed = 0;
    for (const { file, relative } of await this.filesUnder(prefix)) {
      if (!path.posix.basename(relative).includes(PARTIAL_SUFFIX + '-')) continue;
      const s = await stat(file).catch(() => undefined);
      if (!s || s.mtime >= olderThan) continue; // still being written (every write moves mtime)
      await unlink(file).catch(() => undefined);
      removed += 1;
      // The folder of an upload that never finished holds nothing else: drop it too (fails harmlessly if not empty).
      await rmdir(path.dirname(file)).catch(() => undefined);
    }
    return removed;
  }

  private folderOf(prefix: string): string {
    const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    return path.join(this.rootDir, ...checkKey(folder, 'prefix'));
  }

  /** Every file below the prefix's folder, with its key (slash-separated, relative to the store). */
  private async filesUnder(prefix: string): Promise<Array<{ file: string; relative: string }>> {
    const folder = this.folderOf(prefix);
    let entries;
    try {
      entries = await readdir(folder, { recursive: true, withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    return entries
      .filter((e) => e.isFile())
      .map((e) => {
        const file = path.join(e.parentPath ?? e.path, e.name);
        return { file, relative: path.relative(this.rootDir, file).split(path.sep).join('/') };
      });
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Writes to `<target>.partial-<random>` and renames it to `target` when the stream finishes, so a
 * reader never sees half a file and an interrupted write leaves nothing under the key.
 */
class AtomicFileWriter extends Writable {
  private handle?: FileHandle;
  private readonly partial: string;
  private committed = false;

  constructor(private readonly target: string) {
    super({ highWaterMark: 1 << 20 });
    this.partial = `${target}${PARTIAL_SUFFIX}-${randomBytes(6).toString('hex')}`;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    mkdir(path.dirname(this.target), { recursive: true })
      .then(() => open(this.partial, 'wx'))
      .then((handle) => {
        this.handle = handle;
        callback();
      }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.handle!.write(chunk).then(() => callback(), callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.handle!.writev(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const handle = this.handle!;
    this.handle = undefined;
    handle
      .close()
      .then(() => rename(this.partial, this.target))
      .then(() => {
        this.committed = true;
        callback();
      }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.committed) {
      callback(error);
      return;
    }
    const handle = this.handle;
    this.handle = undefined;
    Promise.resolve(handle?.close())
      .catch(() => undefined)
      .then(() => unlink(this.partial))
      .catch(() => undefined) // never created, or already renamed
      .then(() => callback(error));
  }
}
