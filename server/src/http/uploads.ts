/**
 * `POST /uploads` (multipart/form-data, field `file`, optional `transcript`): the file streams to the blob store as it
 * arrives (busboy → write stream, with back-pressure, so memory stays flat whatever the size), the
 * size limit is enforced while streaming, and ffprobe checks the content before anyone is told.
 * Every failure removes what was written and answers a JSON error with a stable code.
 */
import { randomUUID } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { probeAudio } from '../audio';
import { AppError, InvalidArgumentError } from '../common/errors';
import { uploadTranscriptKey } from '../services/upload.service';
import type { BlobStore } from '../storage/blob-store';
import { HttpError, sendError } from './errors';

export interface UploadedFile {
  id: string;
  /** The client's file name (base name only, control characters removed). */
  originalName: string;
  /** Blob key of the stored original, e.g. `uploads/<id>/original.mp3`. */
  key: string;
  bytes: number;
  /** Container as ffprobe names it, e.g. "wav", "mp3", "mov,mp4,m4a,3gp,3g2,mj2". */
  format: string;
  /** Absent when the container does not say (e.g. WebM from a browser's MediaRecorder); computing peaks gives the exact figure. */
  durationSec?: number;
  /** Set when a transcript came with the recording; stored under uploads/<id>/transcript. */
  transcriptFormat?: string;
}

/** Checks a transcript sent with the recording against it; returns its format or throws an AppError saying what is wrong. */
export type TranscriptCheck = (content: string, fileName: string, durationSec: number | undefined) => string;

export interface UploadHandlerOptions {
  blobs: BlobStore;
  /** Largest accepted file in bytes. */
  maxBytes: number;
  /** Persists the upload (e.g. an uploads row). If it throws, the file is removed and the error answered. */
  onUploaded: (upload: UploadedFile) => Promise<void> | void;
  /** Id generator (default: random UUID). */
  newId?: () => string;
  /** A request that sends no byte for this long is cut and its partial file removed (default: 30 s). */
  idleTimeoutMs?: number;
  /** Uploads streaming at once through this handler; beyond it 429 with Retry-After (default: unlimited). */
  maxConcurrent?: number;
  /** Refuse (507) when accepting the upload would leave less than this free in `freeSpaceDir` (default: 0, no check). */
  minFreeBytes?: number;
  /** The folder whose file system holds the upload while it is written or probed (DATA_DIR, or the temp dir for S3). */
  freeSpaceDir?: string;
  /**
   * While the file streams in, free space in `freeSpaceDir` is checked again every this many bytes
   * (default 8 MiB) and the upload stopped with 507 below `minFreeBytes`; 0 turns it off (S3, where
   * the bytes go to the object store, not to that disk).
   */
  freeSpaceRecheckBytes?: number;
  /** Accepts an optional `transcript` file part (at most maxBytes) when given. */
  transcripts?: { maxBytes: number; check: TranscriptCheck };
}

/** Seconds a client refused for concurrency is asked to wait (an upload slot frees as another finishes). */
const BUSY_RETRY_AFTER_S = 10;

/** The form field that carries the recording. */
export const UPLOAD_FIELD = 'file';
/** The optional form field with the recording's transcript (VTT, SRT or Whisper JSON). */
export const TRANSCRIPT_FIELD = 'transcript';

/** Bound on everything in the request that is not the file (boundaries, part headers, a few small fields). */
const MULTIPART_OVERHEAD_BYTES = 256 * 1024;

interface Received {
  id: string;
  key: string;
  originalName: string;
  transcript?: { name: string; content: Buffer };
}

function formatLimit(bytes: number): string {
  return `${Number((bytes / 1e6).toPrecision(3))} MB (${bytes} bytes)`;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    'UPLOAD_TOO_LARGE',
    `The file is larger than the upload limit; the limit is ${formatLimit(maxBytes)}. Compress the recording (e.g. to Opus or MP3) or split it, then upload again.`,
  );
}

function idle(timeoutMs: number): HttpError {
  return new HttpError(
    408,
    'UPLOAD_IDLE_TIMEOUT',
    `The upload sent nothing for ${timeoutMs / 1000} s (UPLOAD_IDLE_TIMEOUT_S), so it was cut off and nothing was stored. Check the connection and send the file again.`,
  );
}

function busy(limit: number): HttpError {
  return new HttpError(
    429,
    'TOO_MANY_UPLOADS',
    `This server is already receiving ${limit} uploads at once (MAX_CONCURRENT_UPLOADS); nothing was stored. Try again in ${BUSY_RETRY_AFTER_S} s, or upload fewer files in parallel.`,
  );
}

function formatMb(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MB`;
}

/** Free bytes for unprivileged users on the file system holding `dir`. */
async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return Number(stats.bavail) * Number(stats.bsize);
}

/**
 * 507 when the disk would keep less than `minFreeBytes` after this upload (its declared length
 * when the client sent one); undefined when there is room.
 */
async function checkFreeSpace(dir: string, minFreeBytes: number, declaredBytes: number): Promise<HttpError | undefined> {
  const free = await freeBytes(dir);
  const needed = Math.max(0, declaredBytes);
  if (free - needed >= minFreeBytes) return undefined;
  return new HttpError(
    507,
    'INSUFFICIENT_STORAGE',
    `The server's disk is nearly full: ${formatMb(free)} free${needed > 0 ? ` for an upload of ${formatMb(needed)}` : ''}, and it keeps at least ${formatMb(minFreeBytes)} free (MIN_FREE_DISK_MB); nothing was stored. Ask the operator to free space, then upload again.`,
  );
}

/** Default of UploadHandlerOptions.freeSpaceRecheckBytes: one statfs per 8 MiB received. */
const FREE_SPACE_RECHECK_BYTES = 8 * 1024 * 1024;

/** Free space fell under the reserve while the file streamed in (the disk filled meanwhile, or the client declared no length). */
function ranLow(free: number, minFreeBytes: number, receivedBytes: number): HttpError {
  return new HttpError(
    507,
    'INSUFFICIENT_STORAGE',
    `The server's disk ran low while the file arrived: ${formatMb(free)} free after ${formatMb(receivedBytes)} of the upload, and it keeps at least ${formatMb(minFreeBytes)} free (MIN_FREE_DISK_MB). The upload was stopped and nothing was stored. Ask the operator to free space, then upload again.`,
  );
}

/** The disk filled while the file streamed in (the free-space check cannot know a length the client did not declare). */
function diskFull(): HttpError {
  return new HttpError(
    507,
    'INSUFFICIENT_STORAGE',
    "The server's disk filled up while the file arrived; nothing was stored. Ask the operator to free space, then upload again.",
  );
}

function transcriptTooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    'UPLOAD_TOO_LARGE',
    `The transcript is larger than ${formatLimit(maxBytes)} (MAX_TRANSCRIPT_MB). Nothing was stored; split the transcript or raise the limit, then upload again.`,
  );
}

function incomplete(detail: string): HttpError {
  return new HttpError(400, 'UPLOAD_INCOMPLETE', `The upload was cut off before the whole file arrived (${detail}). Nothing was stored; send the file again.`);
}

/** How long a client still sending after its answer may go on (its bytes read and dropped) before the connection is cut. */
const LINGER_MS = 10_000;

/**
 * Reads and drops the rest of a body that will not be stored. The connection stays open until the
 * client has sent it all (at most LINGER_MS after the answer): closing it under a client that is
 * still sending makes its system reset the connection, and the client then often never reads the
 * answer (EPIPE / ECONNRESET instead of the 4xx/5xx that says what to do).
 */
function dropRest(req: Request, res: Response): void {
  req.resume();
  res.once('finish', () => {
    if (req.complete) return;
    const cut = setTimeout(() => req.socket.destroy(), LINGER_MS);
    cut.unref();
    req.once('end', () => clearTimeout(cut));
    req.once('close', () => clearTimeout(cut));
  });
}

/** Base name without control characters, at most 255 characters; "upload" when nothing is left. */
export function cleanFileName(name: string | undefined): string {
  const cleaned = path
    .basename((name ?? '').replace(/\\/g, '/'))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return cleaned.slice(0, 255) || 'upload';
}

/** A short lowercase extension from the client's name (for humans browsing the data folder; ffprobe ignores it). */
function extensionOf(name: string): string {
  const ext = path.extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,10}$/.test(ext) ? ext : '';
}

/**
 * Parses the multipart body and streams the `file` part into the store. Resolves once the file is
 * committed under its key; rejects with HttpError after removing anything written.
 */
function receiveFile(req: Request, res: Response, options: UploadHandlerOptions): Promise<Received> {
  const { blobs, maxBytes } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  return new Promise<Received>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8', // browsers send UTF-8 file names
        limits: {
          files: options.transcripts ? 2 : 1,
          fileSize: Math.max(maxBytes, options.transcripts?.maxBytes ?? 0) + 1,
          fields: 10,
          fieldSize: 1024,
          parts: 12,
          headerPairs: 20,
        },
      });
    } catch (err) {
      reject(
        new HttpError(
          400,
          'NOT_MULTIPART',
          `POST /uploads expects multipart/form-data with the recording in a file field named "${UPLOAD_FIELD}" (${(err as Error).message}).`,
        ),
      );
      return;
    }

    let settled = false;
    let received: (Received & { writer: Writable }) | undefined;
    let fileSentAsText = false;
    let fileStored = false;
    let parserClosed = false;
    let transcript: Received['transcript'];
    // Both parts may come in any order: done once the form is read and the recording is stored.
    const finishIfDone = () => {
      if (settled || !received || !fileStored || !parserClosed) return;
      settled = true;
      clearInterval(idleTimer);
      resolve({ id: received.id, key: received.key, originalName: received.originalName, ...(transcript ? { transcript } : {}) });
    };

    // Hand-written because Node's socket timeout also fires while *we* hold the client back (a slow
    // disk or S3 part pauses the request): idle time counts only while the request is flowing.
    let lastActivity = Date.now();
    req.on('data', () => (lastActivity = Date.now()));
    const idleTimer = setInterval(
      () => {
        // Paused: we hold the client back; ended: it has sent everything (the store may still be finishing).
        if (req.isPaused() || req.readableEnded) lastActivity = Date.now();
        else if (Date.now() - lastActivity >= idleTimeoutMs) {
          fail(idle(idleTimeoutMs));
          // The client is silent: it may never read an answer, so the connection goes once it is sent (or soon anyway).
          res.once('finish', () => req.socket.destroy());
          setTimeout(() => req.socket.destroy(), 2000).unref();
        }
      },
      Math.max(50, Math.min(1000, idleTimeoutMs / 4)),
    );
    idleTimer.unref();

    const fail = (error: HttpError | Error): void => {
      if (settled) return;
      settled = true;
      clearInterval(idleTimer);
      req.unpipe(parser);
      parser.destroy();
      // The client may still be sending: read and drop the rest.
      dropRest(req, res);
      if (!received) {
        reject(error);
        return;
      }
      const { writer, id } = received;
      const closed = writer.closed ? Promise.resolve() : new Promise<void>((done) => writer.once('close', () => done()));
      writer.destroy(error);
      // Also drop the upload's (now empty) folder, so that a failed upload leaves nothing at all.
      closed
        .then(() => blobs.removePrefix(`uploads/${id}`))
        .then(
          () => reject(error),
          (cleanupError: unknown) => reject(new Error(`Upload failed (${error.message}) and its partial file could not be removed.`, { cause: cleanupError })),
        );
    };

    parser.on('file', (name, file, info) => {
      const transcriptLimit = options.transcripts?.maxBytes;
      if (name === TRANSCRIPT_FIELD && transcriptLimit !== undefined && !transcript && !settled) {
        const parts: Buffer[] = [];
        let bytes = 0;
        file.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > transcriptLimit) {
            file.resume();
            setImmediate(() => fail(transcriptTooLarge(transcriptLimit)));
          } else parts.push(chunk);
        });
        file.on('end', () => {
          if (bytes <= transcriptLimit) transcript = { name: cleanFileName(info.filename), content: Buffer.concat(parts) };
        });
        return;
      }
      if (name !== UPLOAD_FIELD || received || settled) {
        file.resume();
        return;
      }
      const originalName = cleanFileName(info.filename);
      const id = (options.newId ?? randomUUID)();
      const key = `uploads/${id}/original${extensionOf(originalName)}`;
      const writer = blobs.createWriteStream(key);
      received = { id, key, originalName, writer };
      // Deferred: busboy still touches the file stream after emitting 'limit', so it must not be destroyed inside the listener.
      file.once('limit', () => setImmediate(() => fail(tooLarge(maxBytes))));
      if ((options.transcripts?.maxBytes ?? 0) > maxBytes) {
        // busboy's part limit is then the transcript's; the recording's own limit is checked here.
        let fileBytes = 0;
        file.on('data', (chunk: Buffer) => {
          fileBytes += chunk.length;
          if (fileBytes > maxBytes) setImmediate(() => fail(tooLarge(maxBytes)));
        });
      }
      watchFreeSpace(file, options, fail);
      pipeline(file, writer).then(
        () => {
          fileStored = true;
          finishIfDone();
        },
        (err: Error) => {
          if (err instanceof HttpError) fail(err);
          else if (/Unexpected end/.test(err.message)) fail(incomplete('the multipart body ended early'));
          else if ((err as NodeJS.ErrnoException).code === 'ENOSPC') fail(diskFull());
          else fail(err); // another disk error: answered 500 by the error middleware
        },
      );
    });
    parser.on('field', (name) => {
      if (name === UPLOAD_FIELD) fileSentAsText = true;
    });
    parser.on('error', (err: Error) => fail(incomplete(err.message)));
    parser.on('close', () => {
      parserClosed = true;
      if (received || settled) return finishIfDone(); // else the file's pipeline settles the promise
      fail(
        new HttpError(
          400,
          'MISSING_FILE',
          fileSentAsText
            ? `The "${UPLOAD_FIELD}" field arrived as text, not as a file. Send the recording as a file part (with a filename), e.g. curl -F "${UPLOAD_FIELD}=@meeting.mp3".`
            : `No "${UPLOAD_FIELD}" field in the form. Send the recording as multipart/form-data in a file field named "${UPLOAD_FIELD}", e.g. curl -F "${UPLOAD_FIELD}=@meeting.mp3".`,
        ),
      );
    });
    req.on('close', () => {
      if (!req.complete) fail(incomplete('the connection closed'));
    });
    req.pipe(parser);
  });
}

/** Checks free space again as the file's bytes arrive (one statfs at a time), failing the upload when it falls under the reserve. */
function watchFreeSpace(file: Readable, options: UploadHandlerOptions, fail: (error: Error) => void): void {
  const { minFreeBytes, freeSpaceDir } = options;
  const every = options.freeSpaceRecheckBytes ?? FREE_SPACE_RECHECK_BYTES;
  if (!minFreeBytes || !freeSpaceDir || every <= 0) return;
  let receivedBytes = 0;
  let nextCheckAt = every;
  let checking = false;
  file.on('data', (chunk: Buffer) => {
    receivedBytes += chunk.length;
    if (checking || receivedBytes < nextCheckAt) return;
    checking = true;
    nextCheckAt = receivedBytes + every;
    const at = receivedBytes;
    freeBytes(freeSpaceDir).then(
      (free) => {
        checking = false;
        if (free < minFreeBytes) fail(ranLow(free, minFreeBytes, at));
      },
      (error: Error) => fail(error), // the data folder cannot be read: answered 500, the file removed
    );
  });
}

async function writeBlob(blobs: BlobStore, key: string, content: Buffer): Promise<void> {
  await pipeline(Readable.from([content]), blobs.createWriteStream(key));
}

/** Replaces the server-side path in a probe message with the name the client knows. */
function clientMessage(err: AppError, absolutePath: string, originalName: string): string {
  return err.message.split(absolutePath).join(originalName);
}

/**
 * The `POST /uploads` handler. Answers 201 `{ "id": "..." }` (plus `transcriptFormat` when a transcript came); errors (JSON `{ error: { code, message } }`):
 * 400 NOT_MULTIPART / MISSING_FILE / EMPTY_UPLOAD / UPLOAD_INCOMPLETE, 408 UPLOAD_IDLE_TIMEOUT,
 * 413 UPLOAD_TOO_LARGE, 415 NOT_AUDIO (with ffprobe's reason), 429 TOO_MANY_UPLOADS (with
 * Retry-After), 507 INSUFFICIENT_STORAGE, 400 INVALID_TRANSCRIPT (the optional `transcript` part, with
 * the line or field at fault); onUploaded's errors go to the error middleware.
 */
export function createUploadHandler(options: UploadHandlerOptions): RequestHandler {
  const { maxBytes } = options;
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0))
    throw new InvalidArgumentError(`maxBytes must be a positive whole number of bytes, received ${String(maxBytes)}.`);
  const maxConcurrent = options.maxConcurrent ?? Infinity;
  let active = 0;

  /** Answers before reading a byte of the body (read and dropped; see dropRest). */
  const refuse = (req: Request, res: Response, err: HttpError): void => {
    dropRest(req, res);
    sendError(res, err.status, err.code, err.message);
  };

  return async (req, res, next) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD_BYTES) {
      refuse(req, res, tooLarge(maxBytes)); // certainly too large
      return;
    }
    if (active >= maxConcurrent) {
      res.set('Retry-After', String(BUSY_RETRY_AFTER_S));
      refuse(req, res, busy(maxConcurrent));
      return;
    }
    active += 1;
    try {
      if (options.minFreeBytes && options.freeSpaceDir) {
        const full = await checkFreeSpace(options.freeSpaceDir, options.minFreeBytes, Number.isFinite(declared) ? declared : 0);
        if (full) {
          refuse(req, res, full);
          return;
        }
      }
      await receiveAndRegister(req, res, next, options);
    } finally {
      active -= 1;
    }
  };
}

/** Streams, checks and registers one upload, answering 201 or an error. */
async function receiveAndRegister(req: Request, res: Response, next: NextFunction, options: UploadHandlerOptions): Promise<void> {
  const { blobs, onUploaded } = options;
  let received: Received;
  try {
    received = await receiveFile(req, res, options);
  } catch (err) {
    if (err instanceof HttpError) sendError(res, err.status, err.code, err.message);
    else next(err);
    return;
  }

  const { id, key, originalName } = received;
  try {
    const stat = await blobs.stat(key);
    const bytes = stat?.bytes ?? 0;
    if (bytes === 0) {
      await blobs.removePrefix(`uploads/${id}`);
      sendError(res, 400, 'EMPTY_UPLOAD', `"${originalName}" is empty (0 bytes). Choose the recording again and upload it.`);
      return;
    }
    let absolute = ''; // the file probed, named in ffprobe's messages (replaced by the client's file name)
    let info;
    try {
      info = await blobs.withLocalFile(key, (file) => {
        absolute = file;
        return probeAudio(file);
      });
    } catch (err) {
      await blobs.removePrefix(`uploads/${id}`);
      if (err instanceof AppError && (err.code === 'INVALID_AUDIO' || err.code === 'NO_AUDIO_STREAM')) {
        sendError(res, 415, 'NOT_AUDIO', clientMessage(err, absolute, originalName));
        return;
      }
      throw err;
    }
    let transcriptFormat: string | undefined;
    if (received.transcript && options.transcripts) {
      try {
        transcriptFormat = options.transcripts.check(received.transcript.content.toString('utf8'), received.transcript.name, info.durationSec);
        await writeBlob(blobs, uploadTranscriptKey(id), received.transcript.content);
      } catch (err) {
        await blobs.removePrefix(`uploads/${id}`);
        if (err instanceof AppError && err.code === 'INVALID_ARGUMENT') {
          sendError(res, 400, 'INVALID_TRANSCRIPT', `"${received.transcript.name}": ${err.message} Nothing was stored; fix the transcript and upload again.`);
          return;
        }
        throw err;
      }
    }
    const upload: UploadedFile = {
      id,
      originalName,
      key,
      bytes,
      format: info.formatName,
      ...(info.durationSec !== undefined ? { durationSec: info.durationSec } : {}),
      ...(transcriptFormat ? { transcriptFormat } : {}),
    };
    try {
      await onUploaded(upload);
    } catch (err) {
      await blobs.removePrefix(`uploads/${id}`);
      throw err;
    }
    res.status(201).json(transcriptFormat ? { id, transcriptFormat } : { id });
  } catch (err) {
    next(err);
  }
}
