/**
 * A BlobStore on S3-compatible object storage (AWS S3, MinIO, moto), chosen by `STORAGE_URL=s3://bucket[/prefix]`.
 * Endpoint, region and credentials come from the standard AWS environment variables (AWS_ENDPOINT_URL,
 * AWS_REGION, AWS_ACCESS_KEY_ID, ...), read by the SDK itself. This module owns @aws-sdk/*.
 *
 * Writes are streamed multipart uploads (lib-storage): at most `queueSize × partSize` bytes are in memory,
 * so a 1 GB recording never is. Tools that need a file (ffmpeg, ffprobe) get a streamed download into a
 * temporary file (`withLocalFile`), which also lets ffmpeg seek.
 */
import { createWriteStream as createFileWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { InvalidArgumentError } from '../common/errors';
import { checkKey, type BlobStat, type BlobStore, type ByteRange } from './blob-store';

/** Multipart part size (S3's minimum is 5 MiB) and parts in flight: bounds an upload's memory to ~16 MiB. */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

export interface S3Location {
  bucket: string;
  /** Key prefix inside the bucket, '' or ending in '/'. */
  prefix: string;
}

/** Parses `s3://bucket` or `s3://bucket/some/prefix`. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(url.trim());
  if (!match) {
    throw new InvalidArgumentError(
      `STORAGE_URL ${JSON.stringify(url)} is not an S3 location: use s3://<bucket> or s3://<bucket>/<prefix> (bucket names are 3-63 lowercase letters, digits, "." or "-").`,
    );
  }
  const rest = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (rest) checkKey(rest, 'prefix');
  return { bucket: match[1]!, prefix: rest ? `${rest}/` : '' };
}

/**
 * Client settings from the environment. The SDK reads credentials and region itself; a custom endpoint
 * (MinIO, moto) needs path-style addressing, since `bucket.host` names do not resolve there.
 */
export function s3ClientConfig(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  return {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    // Checksums only where S3 requires them: S3-compatible servers (MinIO, moto) answer multipart objects
    // with a composite checksum that the SDK's default whole-object validation rejects.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  };
}

export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
  ) {}

  static fromUrl(url: string, env: NodeJS.ProcessEnv = process.env): S3BlobStore {
    return new S3BlobStore(new S3Client(s3ClientConfig(env)), parseS3Url(url));
  }

  get bucket(): string {
    return this.location.bucket;
  }

  /** The object key of a blob key. */
  objectKey(key: string): string {
    return this.location.prefix + checkKey(key).join('/');
  }

  absolutePath(key: string): string {
    throw new InvalidArgumentError(`Blob ${JSON.stringify(key)} is in object storage, not on this machine's disk; read it with withLocalFile.`);
  }

  async withLocalFile<T>(key: string, use: (file: string) => Promise<T>): Promise<T> {
    const objectKey = this.objectKey(key);
    const dir = await mkdtemp(path.join(os.tmpdir(), 's3-blob-'));
    try {
      const file = path.join(dir, path.posix.basename(objectKey));
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey })).catch((err: unknown) => {
        throw asMissing(err, key);
      });
      await pipeline(answer.Body as Readable, createFileWriteStream(file));
      return await use(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  createWriteStream(key: string): Writable {
    return new MultipartWriter(this.client, this.bucket, this.objectKey(key));
  }

  createReadStream(key: string, range?: ByteRange): Readable {
    const objectKey = this.objectKey(key);
    if (range && !(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
      throw new InvalidArgumentError(`Byte range ${JSON.stringify(range)} is invalid: start and end are inclusive offsets with 0 <= start <= end.`);
    }
    // The caller gets a stream at once (as from fs); the object's bytes flow in when S3 answers.
    const out = new PassThrough();
    this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }))
      .then(
        (answer) => pipeline(answer.Body as Readable, out),
        (err: unknown) => out.destroy(asMissing(err, key)),
      )
      .catch((err: Error) => out.destroy(err));
    return out;
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { bytes: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  async removePrefix(prefix: string): Promise<void> {
    const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    const objectPrefix = `${this.location.prefix}${checkKey(folder, 'prefix').join('/')}/`;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: objectPrefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async list(prefix: string): Promise<Array<BlobStat & { key: string }>> {
    const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    const objectPrefix = `${this.location.prefix}${checkKey(folder, 'prefix').join('/')}/`;
    const found: Array<BlobStat & { key: string }> = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: objectPrefix, ContinuationToken: token }));
      for (const o of page.Contents ?? [])
        found.push({ key: o.Key!.slice(this.location.prefix.length), bytes: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  /** Multipart uploads a killed process left open (S3 keeps, and bills, their parts until aborted). */
  async removeStalePartials(prefix: string, olderThan: Date): Promise<number> {
    const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    const objectPrefix = `${this.location.prefix}${checkKey(folder, 'prefix').join('/')}/`;
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: objectPrefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated >= olderThan) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
        removed += 1;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return removed;
  }

  /** Every object key under the store's prefix (tests, migration checks). */
  async listKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.location.prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) keys.push(o.Key!.slice(this.location.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** A missing object reads as ENOENT, like a missing local file, so callers handle both alike. */
function asMissing(err: unknown, key: string): Error {
  if (!isNotFound(err)) return err as Error;
  return Object.assign(new Error(`Blob ${JSON.stringify(key)} does not exist in object storage.`), { code: 'ENOENT' });
}

/**
 * A Writable feeding one multipart upload. The object exists only once the stream has finished
 * (S3 completes the upload in `_final`); destroying the stream first aborts the upload, leaving nothing.
 */
class MultipartWriter extends Writable {
  private readonly body = new PassThrough({ highWaterMark: PART_BYTES });
  private readonly upload: Upload;
  private readonly done: Promise<unknown>;
  private committed = false;

  constructor(client: S3Client, bucket: string, key: string) {
    super({ highWaterMark: 1 << 20 });
    this.upload = new Upload({ client, params: { Bucket: bucket, Key: key, Body: this.body }, partSize: PART_BYTES, queueSize: PARTS_IN_FLIGHT });
    this.done = this.upload.done();
    this.done.catch(() => undefined); // observed in _final; an abort rejects it on purpose
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.body.write(chunk)) callback();
    else this.body.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.body.end();
    this.done.then(
      () => {
        this.committed = true;
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.committed) {
      callback(error);
      return;
    }
    this.upload
      .abort()
      .catch(() => undefined)
      .then(() => {
        this.body.destroy();
        callback(error);
      });
  }
}
