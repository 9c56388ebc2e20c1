import { randomUUID } from 'node:crypto';

import { AppError, InvalidArgumentError, NotFoundError } from '../common/errors';
import { sanitizeForClients } from '../common/redact';
import { LogLine, rootLogger, withLogger } from '../logging/logger';
import type { FinishedJobMetrics } from '../metrics/metrics';
import { BatchRecord, JobKind, JobRecord, Store } from '../store/types';
import { JOB_KINDS, JobClaim, JobContext, JobEvents, JobHandlers, JobOutcome, QueuedJob } from './job-types';
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

/** A run that lost its job (cancelled elsewhere, or retried by another worker) writes nothing. */
export class JobOwnershipLostError extends AppError {
  constructor(jobId: string) {
    super('JOB_LOST', `Job ${jobId} is no longer owned by this run (cancelled, or taken over by another worker); its result was discarded.`);
  }
}

export interface JobServiceOptions {
  /** Runs per job before it is FAILED (a worker killed mid-run counts as one). */
  maxAttempts?: number;
  /** Shared queues: how often rows and queue are compared (lost Redis data, lost enqueue). */
  reconcileIntervalMs?: number;
  /** Told of every job that reaches its final state in this process (the job metrics: metrics/metrics.ts recordJobFinished). */
  onFinished?: (job: FinishedJobMetrics) => void;
}

/**
 * Owns job state: rows in the store are the truth (they survive restarts), the queue only runs
 * them. Every state change is published for the `jobProgress` subscription.
 */
export class JobService {
  private readonly lastWrite = new Map<string, number>();
  private readonly lastPublish = new Map<string, number>();
  private readonly jobMeta = new Map<string, { meetingId: string; batchId?: string }>();
  /** Attempt number of each job this process runs (its ownership token). */
  private readonly attempts = new Map<string, number>();
  /** Run time and time per stage of each job this process runs. */
  private readonly clocks = new Map<string, RunClock>();

  constructor(
    private readonly store: Store,
    private readonly queue: JobQueue,
    private readonly publish: ProgressPublisher,
    private readonly log: LogLine = () => undefined,
    private readonly options: JobServiceOptions = {},
  ) {}

  private reconcileTimer?: NodeJS.Timeout;
  private reconciling?: Promise<number>;

  /**
   * Starts the queue. Alone (in-process queue), re-queues what a previous run of this process left
   * QUEUED or RUNNING; on a shared queue, only what the queue no longer holds (reconcile), now, on
   * every reconnection and periodically, since another process may own a RUNNING row.
   */
  async start(handlers?: JobHandlers): Promise<number> {
    if (handlers) this.queue.start(this.inJobScope(handlers), this.events());
    if (this.queue.shared) {
      this.queue.onReady?.(() => void this.reconcile());
      const every = this.options.reconcileIntervalMs ?? 30_000;
      this.reconcileTimer = setInterval(() => void this.reconcile(), every);
      this.reconcileTimer.unref();
      return this.reconcile();
    }
    const pending = await this.store.jobsInState(['RUNNING', 'QUEUED']);
    pending.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const job of pending) {
      if (job.state === 'RUNNING') await this.store.updateJob(job.id, { state: 'QUEUED', stage: null, progress: 0 });
      await this.queue.enqueue(toQueued(job));
    }
    return pending.length;
  }

  /** Enqueues again every QUEUED or RUNNING row the shared queue no longer holds; returns how many. */
  async reconcile(): Promise<number> {
    if (this.reconciling) return this.reconciling;
    this.reconciling = (async () => {
      let count = 0;
      try {
        const pending = await this.store.jobsInState(['RUNNING', 'QUEUED']);
        pending.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
        for (const listed of pending) {
          if (await this.queue.holds!(listed.id)) continue;
          // Read again under the row lock: the list is old, and the job may have finished meanwhile
          // (a finished job leaves the queue right after its row is written).
          const job = await this.store.transaction(async (tx) => {
            const fresh = await tx.lockJob(listed.id);
            if (!fresh || (fresh.state !== 'QUEUED' && fresh.state !== 'RUNNING')) return undefined;
            // RUNNING without a job in the queue: its worker's lock and data are gone (Redis lost it).
            if (fresh.state === 'RUNNING') return tx.updateJob(fresh.id, { state: 'QUEUED', stage: null, progress: 0 });
            return fresh;
          });
          if (!job) continue;
          await this.queue.enqueue(toQueued(job));
          count++;
        }
        if (count > 0) this.log(`re-queued ${count} job(s) the queue no longer held`);
      } catch (error) {
        this.log(`job reconciliation failed (retried later): ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        this.reconciling = undefined;
      }
      return count;
    })();
    return this.reconciling;
  }

  async stop(): Promise<void> {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.reconciling;
  }

  async submit(kind: JobKind, meetingId: string, batchId?: string): Promise<JobRecord> {
    const job = await this.store.transaction((tx) => insertJobFor(tx, kind, meetingId, batchId));
    await this.dispatch(job);
    return job;
  }

  /**
   * One batch and one job per meeting, written in one transaction: a failure half-way leaves no
   * batch without its jobs. They are queued after the commit (a worker must find the rows).
   */
  async submitBatch(kind: JobKind, meetingIds: readonly string[]): Promise<{ batch: BatchRecord; jobs: JobRecord[] }> {
    const written = await this.store.transaction(async (tx) => {
      const batch = await tx.insertBatch({ id: randomUUID(), kind });
      const jobs: JobRecord[] = [];
      for (const meetingId of meetingIds) jobs.push(await insertJobFor(tx, kind, meetingId, batch.id));
      return { batch, jobs };
    });
    for (const job of written.jobs) await this.dispatch(job);
    return written;
  }

  /** Announces a committed QUEUED row and hands it to the queue. */
  private async dispatch(job: JobRecord): Promise<void> {
    this.emit(job);
    try {
      await this.queue.enqueue(toQueued(job));
    } catch (error) {
      // On a shared queue the QUEUED row is the job: reconciliation enqueues it when the queue is back.
      if (!this.queue.shared) throw error;
      this.log(`job ${job.id} stays QUEUED until the queue is reachable: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async cancel(jobId: string): Promise<JobRecord> {
    const job = await this.mustGet(jobId);
    if (job.state !== 'QUEUED' && job.state !== 'RUNNING') {
      throw new InvalidArgumentError(`Job ${jobId} is ${job.state}; only QUEUED or RUNNING jobs can be cancelled.`);
    }
    const wasRunning = this.queue.cancel(jobId) && job.state === 'RUNNING';
    // A running job here reaches CANCELLED when its handler stops (onFinish); a queued one, or one
    // on another process's worker, right now: that worker's result write then fails its owner check.
    if (wasRunning) return job;
    const updated = await this.store.transaction(async (tx) => {
      const locked = await tx.lockJob(jobId);
      if (!locked || (locked.state !== 'QUEUED' && locked.state !== 'RUNNING')) return locked;
      return tx.updateJob(jobId, { state: 'CANCELLED', stage: null, finishedAt: new Date().toISOString() });
    });
    if (!updated) throw new NotFoundError('job', jobId);
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
      onStart: (queued) => this.claim(queued),
      onProgress: (queued, stage, fraction) => this.progress(queued, stage, fraction),
      onFinish: async (queued, outcome) => {
        const attempt = this.attempts.get(queued.id);
        this.attempts.delete(queued.id);
        const run = this.clocks.get(queued.id)?.stop();
        this.clocks.delete(queued.id);
        // Only the run that owns the job may finish it: a cancelled or taken-over run changes nothing.
        const updated = await this.store.transaction(async (tx) => {
          const locked = await tx.lockJob(queued.id);
          if (!locked || locked.state !== 'RUNNING' || (attempt !== undefined && locked.attempts !== attempt)) return undefined;
          return tx.updateJob(queued.id, finishPatch(outcome));
        });
        this.lastWrite.delete(queued.id);
        this.lastPublish.delete(queued.id);
        // The full text (paths, driver messages, stack) goes to the log only; the row gets describe()'s.
        if (outcome.state === 'FAILED')
          this.inScope(queued, attempt, () => this.log(`job ${queued.id} (${queued.name}) failed: ${fullText(outcome.error)}`, 'error'));
        if (updated) this.emit(updated);
        this.jobMeta.delete(queued.id);
        // Only the run that wrote the final state counts it (a lost run's outcome is not the job's).
        if (updated) await this.finished(updated, run);
      },
    };
  }

  /**
   * Each handler runs in the job's logging scope: every line it (the pipeline, the engine) logs
   * carries jobId, attempt and meetingId. Not below the request that queued the job: it outlives it.
   */
  private inJobScope(handlers: JobHandlers): JobHandlers {
    const scoped = (name: QueuedJob['name']) => (payload: QueuedJob['payload'], ctx: JobContext) =>
      this.inScope({ id: ctx.jobId, name, payload }, this.attempts.get(ctx.jobId), () => {
        this.log(`job ${ctx.jobId} (${name}) attempt ${this.attempts.get(ctx.jobId) ?? '?'} started`);
        return handlers[name](payload, ctx);
      });
    // A missing handler stays missing: the queue's start-up check names it.
    return Object.fromEntries(JOB_KINDS.filter((name) => typeof handlers[name] === 'function').map((name) => [name, scoped(name)])) as JobHandlers;
  }

  private inScope<T>(job: QueuedJob, attempt: number | undefined, run: () => T): T {
    return withLogger(rootLogger().child({ jobId: job.id, attempt, meetingId: job.payload.meetingId }), run);
  }

  /**
   * Takes the job as attempt n+1 in one transaction (the row lock orders competing workers): skips
   * rows that are no longer QUEUED/RUNNING, fails the job once JOB_MAX_ATTEMPTS runs were started.
   */
  private async claim(queued: QueuedJob): Promise<JobClaim> {
    const maxAttempts = this.options.maxAttempts ?? 3;
    const result = await this.store.transaction(async (tx) => {
      const locked = await tx.lockJob(queued.id);
      if (!locked) return { proceed: false, attempt: 0, row: undefined };
      if (locked.state !== 'QUEUED' && locked.state !== 'RUNNING') return { proceed: false, attempt: locked.attempts, row: undefined };
      if (locked.attempts >= maxAttempts) {
        const row = await tx.updateJob(queued.id, {
          state: 'FAILED',
          stage: null,
          finishedAt: new Date().toISOString(),
          errorCode: 'TOO_MANY_ATTEMPTS',
          errorMessage: `The job was started ${locked.attempts} times without finishing (JOB_MAX_ATTEMPTS = ${maxAttempts}); its worker may have crashed on it. Check the server log and the recording, then retry.`,
        });
        return { proceed: false, attempt: locked.attempts, row };
      }
      const row = await tx.updateJob(queued.id, {
        state: 'RUNNING',
        stage: 'starting',
        progress: 0,
        attempts: locked.attempts + 1,
        startedAt: new Date().toISOString(),
        finishedAt: null,
        errorCode: null,
        errorMessage: null,
      });
      return { proceed: true, attempt: locked.attempts + 1, row };
    });
    if (result.row) this.emit(result.row);
    if (result.row?.state === 'FAILED') await this.finished(result.row);
    if (result.proceed) {
      this.attempts.set(queued.id, result.attempt);
      this.clocks.set(queued.id, new RunClock());
    }
    const attempt = result.attempt;
    return {
      proceed: result.proceed,
      attempt,
      assertOwner: async (tx) => {
        // The row stays locked until the caller's transaction ends, so the check stays true for it.
        const locked = await tx.lockJob(queued.id);
        if (!locked || locked.state !== 'RUNNING' || locked.attempts !== attempt) throw new JobOwnershipLostError(queued.id);
      },
    };
  }

  private progress(queued: QueuedJob, stage: string, fraction: number): void {
    this.clocks.get(queued.id)?.report(stage);
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

  /** Tells onFinished of a job this process brought to SUCCEEDED, FAILED or CANCELLED; never fails the job. */
  private async finished(job: JobRecord, run?: { seconds: number; stagesSec: Record<string, number> }): Promise<void> {
    const onFinished = this.options.onFinished;
    if (!onFinished || (job.state !== 'SUCCEEDED' && job.state !== 'FAILED' && job.state !== 'CANCELLED')) return;
    try {
      // The real-time factor's denominator: the duration the diarization just stored.
      const audioSec = job.kind === 'diarize' && job.state === 'SUCCEEDED' ? (await this.store.getMeeting(job.meetingId))?.durationSec : undefined;
      onFinished({ kind: job.kind, state: job.state, seconds: run?.seconds, audioSec, errorCode: job.errorCode, stagesSec: run?.stagesSec });
    } catch (error) {
      this.log(`job ${job.id}: its metrics were not recorded: ${error instanceof Error ? error.message : String(error)}`);
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

/**
 * One run's clock: its run time, split by the stages its progress names. The pipeline reports after
 * each piece of work (a chunk segmented, a clustering step), so the time up to a report counts for
 * the stage that report names; what follows the last report counts for its stage too. The stages
 * add up to the run time.
 */
class RunClock {
  private readonly startedMs = performance.now();
  private lastMs = this.startedMs;
  private stage?: string;
  private readonly stagesSec: Record<string, number> = {};

  report(stage: string): void {
    const now = performance.now();
    this.add(stage, now);
    this.stage = stage;
  }

  stop(): { seconds: number; stagesSec: Record<string, number> } {
    const now = performance.now();
    if (this.stage !== undefined) this.add(this.stage, now);
    return { seconds: (now - this.startedMs) / 1000, stagesSec: { ...this.stagesSec } };
  }

  private add(stage: string, now: number): void {
    this.stagesSec[stage] = (this.stagesSec[stage] ?? 0) + (now - this.lastMs) / 1000;
    this.lastMs = now;
  }
}

async function insertJobFor(tx: Store, kind: JobKind, meetingId: string, batchId?: string): Promise<JobRecord> {
  const created = await tx.insertJob({ id: randomUUID(), kind, meetingId, batchId });
  await tx.updateMeeting(meetingId, { latestJobId: created.id });
  return created;
}

function toQueued(job: JobRecord): QueuedJob {
  return { id: job.id, name: job.kind, payload: { meetingId: job.meetingId }, priority: job.batchId ? 10 : 1 };
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

/** Codes whose messages name infrastructure (hosts, files, driver text): clients get a fixed text instead. */
const INFRASTRUCTURE_MESSAGES: Partial<Record<string, string>> = {
  DATABASE_UNAVAILABLE: 'The database could not be reached while the job ran. Retry the job once the server is healthy again; the server log has the details.',
  QUEUE_UNAVAILABLE: 'The job queue could not be reached while the job ran. Retry the job once the server is healthy again; the server log has the details.',
  INTERNAL: 'An internal error stopped the job. The server log has the details; retry the job, and report it if it fails again.',
};

/**
 * What a job's READ viewers and webhook receivers are told: the code, and a reason a person can
 * act on without server paths, addresses or driver internals. Unexpected errors (not AppErrors)
 * say only their system error code (e.g. ENOSPC); the log has the full text (fullText).
 */
export function describe(error: unknown): { code: string; message: string } {
  if (isAppError(error)) return { code: error.code, message: INFRASTRUCTURE_MESSAGES[error.code] ?? sanitizeForClients(error.message) };
  const system = systemErrorCode(error);
  return {
    code: 'INTERNAL',
    message: `Unexpected error while processing${system ? ` (${system})` : ''}. The server log has the details; retry the job, and report it if it fails again.`,
  };
}

/** `ENOSPC`, `ECONNREFUSED`, …: safe to show (no address), and it tells an operator where to look. */
function systemErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9_]{2,30}$/.test(code) ? code : undefined;
}

/** The error for the server log: code, message, causes, and the stack of unexpected errors. */
function fullText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 4; depth++) {
    if (isAppError(current)) parts.push(`[${current.code}] ${current.message}`);
    else parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\ncaused by: ');
}
