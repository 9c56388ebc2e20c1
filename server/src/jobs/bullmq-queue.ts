import { Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

import { AbortedError, AppError, InvalidArgumentError } from '../common/errors';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { JOB_KINDS, JobEvents, JobHandlers, JobOutcome, QueuedJob } from './job-types';
import { JobQueue } from './queue';

/** The one BullMQ queue of meeting jobs; its job ids are the database rows' ids. */
export const MEETING_QUEUE = 'meeting-jobs';
/** Redis channel: "cancel this job id", heard by every worker (the one running it aborts). */
const CANCEL_CHANNEL = 'meeting-jobs:cancel';

export interface BullMqQueueOptions {
  redisUrl: string;
  /** Run jobs in this process (a worker); false = only enqueue and cancel (an API process). */
  runJobs: boolean;
  concurrency: number;
  /** A job whose progress has not moved for this long fails (a hung ffmpeg, a stuck model call). */
  stallTimeoutMs: number;
  /** How long a worker's lock lives without renewal; after a SIGKILL the job is retried once it expires. */
  lockDurationMs: number;
  /** How many times a job may be taken back from a dead worker (BullMQ's stalled count). */
  maxAttempts: number;
  /** This process's engine slots, shared with clip tasks (jobs/clip-tasks.ts); a job runs in one. */
  limiter?: ConcurrencyLimiter;
  log: (line: string) => void;
}

/** The job failed because its progress stood still for too long. */
export class JobStalledError extends AppError {
  constructor(seconds: number) {
    super(
      'JOB_STALLED',
      `The job made no progress for ${seconds} s and was stopped (JOB_STALL_TIMEOUT_S). Retry it; if it stalls again, check the recording and the server log.`,
    );
  }
}

/** Redis (the shared job queue) cannot be reached right now. */
export class QueueUnavailableError extends AppError {
  constructor() {
    super('QUEUE_UNAVAILABLE', 'The job queue (Redis) is unreachable right now; the job is kept and starts once the queue is back.');
  }
}

/**
 * Meeting jobs on BullMQ (Redis), for many API and worker processes. The database row stays the
 * job's truth (JobService); BullMQ carries the work, finds jobs of dead workers (stalled lock) and
 * orders them by priority. Adding a job whose id BullMQ already holds is a no-op, so a job is
 * never queued twice; finished BullMQ jobs are removed so that a re-queued row can be added again.
 */
export class BullMqQueue implements JobQueue {
  readonly shared = true;
  private readonly connection: Redis;
  private readonly queue: Queue;
  private worker?: Worker;
  private subscriber?: Redis;
  private readonly running = new Map<string, { controller: AbortController; cancelled: boolean }>();
  private closing = false;

  constructor(private readonly options: BullMqQueueOptions) {
    // BullMQ needs maxRetriesPerRequest null: commands wait for Redis to come back instead of failing.
    this.connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
    this.connection.on('error', () => undefined);
    this.queue = new Queue(MEETING_QUEUE, { connection: this.connection });
    this.queue.on('error', () => undefined);
  }

  /** Calls `fn` whenever the connection to Redis is (re)established (reconciliation). */
  onReady(fn: () => void): void {
    this.connection.on('ready', fn);
  }

  /** ioredis notices a closed connection at once ('reconnecting') and says 'ready' again once it is back. */
  reachable(): boolean {
    return this.connection.status === 'ready';
  }

  start(handlers: JobHandlers, events: JobEvents): void {
    if (!this.options.runJobs) return;
    const missing = JOB_KINDS.filter((name) => typeof handlers[name] !== 'function');
    if (missing.length > 0) throw new InvalidArgumentError(`No handler for job name(s): ${missing.join(', ')}.`);
    this.subscriber = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    this.subscriber.on('error', () => undefined);
    void this.subscriber.subscribe(CANCEL_CHANNEL).catch(() => undefined);
    this.subscriber.on('message', (_channel, jobId: string) => {
      const run = this.running.get(jobId);
      if (!run) return;
      run.cancelled = true;
      run.controller.abort(new AbortedError('job'));
    });
    this.worker = new Worker(MEETING_QUEUE, (job) => this.process(job, handlers, events), {
      connection: new Redis(this.options.redisUrl, { maxRetriesPerRequest: null }),
      concurrency: this.options.concurrency,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: Math.max(1000, Math.round(this.options.lockDurationMs / 2)),
      maxStalledCount: this.options.maxAttempts,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    this.worker.on('error', (error) => this.options.log(`job worker: ${error.message}`));
  }

  async enqueue(job: QueuedJob): Promise<void> {
    if (this.closing) throw new InvalidArgumentError('The job queue is shut down.');
    // Fail fast while Redis is away (commands would wait for it): the row stays QUEUED and the
    // reconciliation enqueues it once Redis is back.
    if (this.connection.status !== 'ready') throw new QueueUnavailableError();
    await this.queue.add(job.name, job.payload, {
      jobId: job.id,
      // BullMQ: lower runs first. New uploads (1) before batch reprocessing (10).
      priority: job.priority ?? 1,
      removeOnComplete: true,
      removeOnFail: true,
      attempts: 1,
    });
  }

  /** Always false: the row is the truth, so JobService marks it CANCELLED; the worker running it hears this and stops. */
  cancel(jobId: string): boolean {
    void this.queue
      .getJob(jobId)
      .then((job) => job?.remove())
      .catch(() => undefined); // an active job is locked; the published cancel stops it
    void this.connection.publish(CANCEL_CHANNEL, jobId).catch((error: Error) => this.options.log(`could not publish cancel of job ${jobId}: ${error.message}`));
    return false;
  }

  /** Whether BullMQ still holds the job (waiting, delayed, prioritized or active). */
  async holds(jobId: string): Promise<boolean> {
    const job = await this.queue.getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  }

  counts(): { queued: number; running: number } {
    return { queued: 0, running: this.running.size };
  }

  /** Queue depth as BullMQ sees it (all processes). */
  async depth(): Promise<{ queued: number; running: number }> {
    const c = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return { queued: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), running: c.active ?? 0 };
  }

  /** Drains: stops taking jobs and lets the running ones finish (a SIGTERM'd worker). */
  async close(): Promise<void> {
    this.closing = true;
    await this.worker?.close();
    await this.queue.close();
    this.subscriber?.disconnect();
    this.connection.disconnect();
  }

  private async process(bull: Job, handlers: JobHandlers, events: JobEvents): Promise<void> {
    // A clip task may hold the slot for a few seconds; the job waits for it (BullMQ keeps renewing the lock).
    const release = await this.options.limiter?.acquire();
    try {
      await this.runInSlot(bull, handlers, events);
    } finally {
      release?.();
    }
  }

  private async runInSlot(bull: Job, handlers: JobHandlers, events: JobEvents): Promise<void> {
    const job: QueuedJob = { id: bull.id!, name: bull.name as QueuedJob['name'], payload: bull.data as QueuedJob['payload'] };
    const claim = await events.onStart(job);
    if (claim && !claim.proceed) return; // cancelled, finished or out of attempts: nothing to run
    const controller = new AbortController();
    const run = { controller, cancelled: false };
    this.running.set(job.id, run);
    const stallSec = Math.round(this.options.stallTimeoutMs / 1000);
    let lastMove = Date.now();
    let lastFraction = -1;
    let lastStage = '';
    let stalled = false;
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastMove < this.options.stallTimeoutMs) return;
        stalled = true;
        controller.abort(new JobStalledError(stallSec));
      },
      Math.min(1000, this.options.stallTimeoutMs),
    );
    const handler = handlers[job.name] as (payload: unknown, ctx: Parameters<JobHandlers['diarize']>[1]) => Promise<void>;
    let outcome: JobOutcome;
    try {
      await handler(job.payload, {
        jobId: job.id,
        signal: controller.signal,
        assertOwner: claim ? claim.assertOwner : undefined,
        reportProgress: (stage, fraction) => {
          if (fraction !== lastFraction || stage !== lastStage) lastMove = Date.now();
          lastFraction = fraction;
          lastStage = stage;
          events.onProgress(job, stage, fraction);
        },
      });
      outcome = controller.signal.aborted ? this.stopped(run, stalled, stallSec) : { state: 'SUCCEEDED' };
    } catch (error) {
      outcome = controller.signal.aborted ? this.stopped(run, stalled, stallSec) : { state: 'FAILED', error };
    } finally {
      clearInterval(watchdog);
      this.running.delete(job.id);
    }
    await events.onFinish(job, outcome);
  }

  private stopped(run: { cancelled: boolean }, stalled: boolean, stallSec: number): JobOutcome {
    if (stalled) return { state: 'FAILED', error: new JobStalledError(stallSec) };
    return run.cancelled ? { state: 'CANCELLED' } : { state: 'INTERRUPTED' };
  }
}
