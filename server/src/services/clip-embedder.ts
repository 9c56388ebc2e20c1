import { probeAudio } from '../audio';
import { AppError, ClipTooLongError } from '../common/errors';
import type { Engine } from '../diarization/engine';
import { assertStoredClipDuration, ClipEmbedder, ClipEmbedding, ClipTaskTimeoutError, EmbedClipRequest } from '../jobs/clip-embedding';
import type { ConcurrencyLimiter } from '../jobs/concurrency-limiter';
import type { BlobStore } from '../storage/blob-store';
import type { UploadRecord } from '../store/types';

export interface InProcessClipEmbedderOptions {
  engine: Engine;
  blobs: BlobStore;
  /** The job concurrency's slots: a clip's decode and embedding is one engine run. */
  limiter: ConcurrencyLimiter;
  maxClipSec: number;
  /** How long a request waits for a free slot. */
  waitTimeoutMs: number;
}

/** Runs the engine in this process: the embedded default, and what a worker runs for a clip task. */
export class InProcessClipEmbedder implements ClipEmbedder {
  constructor(private readonly options: InProcessClipEmbedderOptions) {}

  check(upload: UploadRecord): void {
    assertStoredClipDuration(upload, this.options.maxClipSec);
  }

  async embed(upload: UploadRecord, request: EmbedClipRequest = {}): Promise<ClipEmbedding> {
    const { blobs, maxClipSec } = this.options;
    assertStoredClipDuration(upload, maxClipSec);
    return blobs.withLocalFile(upload.path, (file) =>
      this.embedFile(file, upload, request).catch((error: unknown) => Promise.reject(clientError(error, file, upload))),
    );
  }

  private async embedFile(file: string, upload: UploadRecord, request: EmbedClipRequest): Promise<ClipEmbedding> {
    const { engine, limiter, maxClipSec, waitTimeoutMs } = this.options;
    // The file itself is probed again (the stored row may predate a limit change or name no
    // duration); an over-long clip never reaches a decoder or waits for a slot.
    const info = await probeAudio(file);
    if (info.durationSec !== undefined && info.durationSec > maxClipSec) throw new ClipTooLongError(info.durationSec, maxClipSec);
    const run = () => engine.embedClip(file, { info, maxClipSec, signal: request.signal });
    if (request.inJob) return { ...(await run()), model: engine.model };
    const timeoutMs = Math.max(0, Math.min(waitTimeoutMs, (request.deadline ?? Infinity) - Date.now()));
    const result = await limiter.run(run, {
      timeoutMs,
      onTimeout: () => new ClipTaskTimeoutError(Math.round(waitTimeoutMs / 1000), 'here'),
      signal: request.signal,
    });
    return { ...result, model: engine.model };
  }
}

/** The error with the server's file path replaced by the upload the client knows (no server paths in answers). */
function clientError(error: unknown, file: string, upload: UploadRecord): unknown {
  if (!(error instanceof AppError) || !error.message.includes(file)) return error;
  return new AppError(error.code, error.message.split(file).join(`upload ${upload.id} (${upload.originalName})`), { cause: error });
}
