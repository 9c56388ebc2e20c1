import { randomUUID } from 'node:crypto';

import { AppError, InvalidArgumentError, NotFoundError } from '../common/errors';
import { JobKind, JobRecord, Store } from '../store/types';
import { JobEvents, JobHandlers, JobOutcome, QueuedJob } from './job-types';
import { JobQueue } from './queue';

/** What subscribers of job progress receive: plain JSON, the same shape as the polling query. */
export interface JobProgressEvent {
  jobId: string;
  meetingId: string;
  batchId?: string;
  state: JobRecord['state'];
  stage?: string;
  progress: number;
  errorCode?: string;
  errorMessage?: string;
}

export type ProgressPublisher = (event: JobProgressEvent) => void;

/** Progress is written to the database at most this often (events go out more often). */
const PROGRESS_WRITE_INTERVAL_MS = 1000;
const PROGRESS_PUBLISH_INTERVAL_MS = 200;

/**
 * Owns job state: rows in the store are the truth (they survive restarts), the queue only runs
 * them. Every state change is published for the `jobProgress` subscription.
 */
export class JobService {
  private readonly lastWrite = new Map<string, number>();
  private readonly lastPublish = new Map<string, number>();
  private readonly jobMeta = new Map<string, { meetingId: string; batchId?: string }>();

  constructor(
    private readonly store: Store,
    private readonly queue: JobQueue,
    private readonly publish: ProgressPublisher,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Starts the queue and re-queues what a previous process left QUEUED or RUNNING. */
  async start(handlers: JobHandlers): Promise<number> {
    this.queue.start(handlers, this.events());
    const pending = await this.store.jobsInState(['RUNNING', 'QUEUED']);
    pending.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const job of pending) {
      if (job.state === 'RUNNING') await this.store.updateJob(job.id, { state: 'QUEUED', stage: null, progress: 0 });
      await this.queue.enqueue(toQueued(job));
    }
    return pending.length;
  }

  async submit(kind: JobKind, meetingId: string, batchId?: string): Promise<JobRecord> {
    const job = await this.store.transaction(async (tx) => {
      const created = await tx.insertJob({ id: randomUUID(), kind, meetingId, batchId });
      await tx.updateMeeting(meetingId, { latestJobId: created.id });
      return created;
    });
    this.emit(job);
    await this.queue.enqueue(toQueued(job));
    return job;
  }

  async cancel(jobId: string): Promise<JobRecord> {
    const job = await this.mustGet(jobId);
    if (job.state !== 'QUEUED' && job.state !== 'RUNNING') {
      throw new InvalidArgumentError(`Job ${jobId} is ${job.state}; only QUEUED or RUNNING jobs can be cancelled.`);
    }
    const wasRunning = this.queue.cancel(jobId) && job.state === 'RUNNING';
    // A running job reaches CANCELLED when its handler stops (onFinish); a queued one right now.
    if (wasRunning) return job;
    const updated = (await this.store.updateJob(jobId, { state: 'CANCELLED', finishedAt: new Date().toISOString(), stage: null }))!;
    this.emit(updated);
    return updated;
  }

  /** A new job for the same meeting and kind (the failed one stays in the history). */
  async retry(jobId: string): Promise<JobRecord> {
    const job = await this.mustGet(jobId);
    if (job.state !== 'FAILED' && job.state !== 'CANCELLED') {
      throw new InvalidArgumentError(`Job ${jobId} is ${job.state}; only FAILED or CANCELLED jobs can be retried.`);
    }
    return this.submit(job.kind, job.meetingId, job.batchId);
  }

  /** Cancels every unfinished job of a meeting (before it is deleted). */
  async cancelAllOfMeeting(meetingId: string): Promise<void> {
    for (const job of await this.store.jobsOfMeeting(meetingId)) {
      if (job.state === 'QUEUED' || job.state === 'RUNNING') this.queue.cancel(job.id);
    }
  }

  private async mustGet(jobId: string): Promise<JobRecord> {
    const job = await this.store.getJob(jobId);
    if (!job) throw new NotFoundError('job', jobId);
    return job;
  }

  private events(): JobEvents {
    return {
      onStart: async (queued) => {
        const current = await this.store.getJob(queued.id);
        const updated = await this.store.updateJob(queued.id, {
          state: 'RUNNING',
          stage: 'starting',
          progress: 0,
          attempts: (current?.attempts ?? 0) + 1,
          startedAt: new Date().toISOString(),
          finishedAt: null,
          errorCode: null,
          errorMessage: null,
        });
        if (updated) this.emit(updated);
      },
      onProgress: (queued, stage, fraction) => this.progress(queued, stage, fraction),
      onFinish: async (queued, outcome) => {
        const updated = await this.store.updateJob(queued.id, finishPatch(outcome));
        this.lastWrite.delete(queued.id);
        this.lastPublish.delete(queued.id);
        if (outcome.state === 'FAILED')
          this.log(
            `job ${queued.id} (${queued.name}) failed: ${describe(outcome.error).message}${isAppError(outcome.error) ? '' : `\n${stack(outcome.error)}`}`,
          );
        if (updated) this.emit(updated);
        this.jobMeta.delete(queued.id);
      },
    };
  }

  private progress(queued: QueuedJob, stage: string, fraction: number): void {
    const now = Date.now();
    const progress = Math.max(0, Math.min(1, fraction));
    if (now - (this.lastPublish.get(queued.id) ?? 0) >= PROGRESS_PUBLISH_INTERVAL_MS) {
      this.lastPublish.set(queued.id, now);
      const meta = this.jobMeta.get(queued.id) ?? { meetingId: queued.payload.meetingId };
      this.publish({ jobId: queued.id, meetingId: meta.meetingId, batchId: meta.batchId, state: 'RUNNING', stage, progress });
    }
    if (now - (this.lastWrite.get(queued.id) ?? 0) >= PROGRESS_WRITE_INTERVAL_MS) {
      this.lastWrite.set(queued.id, now);
      this.store.updateJob(queued.id, { stage, progress }).catch((error) => this.log(`could not store progress of job ${queued.id}: ${String(error)}`));
    }
  }

  private emit(job: JobRecord): void {
    this.jobMeta.set(job.id, { meetingId: job.meetingId, batchId: job.batchId });
    this.publish({
      jobId: job.id,
      meetingId: job.meetingId,
      batchId: job.batchId,
      state: job.state,
      stage: job.stage,
      progress: job.progress,
      errorCode: job.errorCode,
      errorMessage: job.errorMessage,
    });
  }
}

function toQueued(job: JobRecord): QueuedJob {
  return { id: job.id, name: job.kind, payload: { meetingId: job.meetingId } };
}

function finishPatch(outcome: JobOutcome) {
  const finishedAt = new Date().toISOString();
  switch (outcome.state) {
    case 'SUCCEEDED':
      return { state: 'SUCCEEDED' as const, progress: 1, stage: null, finishedAt };
    case 'CANCELLED':
      return { state: 'CANCELLED' as const, stage: null, finishedAt };
    case 'INTERRUPTED':
      return { state: 'QUEUED' as const, stage: null, progress: 0, startedAt: null };
    case 'FAILED': {
      const { code, message } = describe(outcome.error);
      return { state: 'FAILED' as const, stage: null, finishedAt, errorCode: code, errorMessage: message };
    }
  }
}

function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** A reason a person can act on; unexpected errors keep their message but not their stack. */
export function describe(error: unknown): { code: string; message: string } {
  if (isAppError(error)) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'INTERNAL',
    message: `Unexpected error while processing: ${message}. The server log has the details; retry the job, and report it if it fails again.`,
  };
}

function stack(error: unknown): string {
  return error instanceof Error && error.stack ? error.stack : String(error);
}
