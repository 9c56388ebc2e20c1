/**
 * The contract for embedding an uploaded clip (findSpeaker, enrollFromUploads), between the services
 * that ask and the two kinds that answer: services/clip-embedder.ts in this process, jobs/clip-tasks.ts
 * on a worker.
 */
import { AppError, ClipTooLongError } from '../common/errors';
import type { ModelIdentity } from '../diarization/engine';
import type { UploadRecord } from '../store/types';

/** One voice's embedding from an uploaded clip, tagged with the model that made it. */
export interface ClipEmbedding {
  embedding: Float32Array;
  speechSec: number;
  model: ModelIdentity;
}

export interface EmbedClipRequest {
  /** Inside a job that already holds an engine slot (re-embedding after a model switch): take no other. */
  inJob?: boolean;
  /** Epoch ms after which nobody waits for the answer any more (a worker's task deadline). */
  deadline?: number;
  signal?: AbortSignal;
}

/**
 * Embeds the clip of an upload for findSpeaker and enrollFromUploads. The embedded default runs the
 * engine here, in the job concurrency's slots (InProcessClipEmbedder); with REDIS_URL an API process
 * sends it to a worker as a queue task (jobs/clip-tasks.ts). Both refuse a clip longer than
 * MAX_CLIP_SEC before any decoding.
 */
export interface ClipEmbedder {
  /** Refuses (ClipTooLongError) a clip whose duration, probed at upload, is over MAX_CLIP_SEC. */
  check(upload: UploadRecord): void;
  embed(upload: UploadRecord, request?: EmbedClipRequest): Promise<ClipEmbedding>;
}

/** The engine could not take the clip in time: every slot stayed busy, or no worker answered. */
export class ClipTaskTimeoutError extends AppError {
  constructor(seconds: number, where: 'here' | 'worker') {
    super(
      'CLIP_TASK_TIMEOUT',
      where === 'here'
        ? `The engine was busy with other jobs for ${seconds} s (CLIP_TASK_TIMEOUT_S), so the clip was not embedded. Retry later, or raise JOB_CONCURRENCY.`
        : `No worker answered within ${seconds} s (CLIP_TASK_TIMEOUT_S): the workers are busy or down. Retry later, or start more workers (npm run worker).`,
    );
  }
}

/** Refuses a clip by the duration ffprobe gave at upload time (0 = the container did not say). */
export function assertStoredClipDuration(upload: UploadRecord, maxClipSec: number): void {
  if (upload.durationSec > maxClipSec) throw new ClipTooLongError(upload.durationSec, maxClipSec);
}
