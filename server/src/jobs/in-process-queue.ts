import { AbortedError, InvalidArgumentError } from '../common/errors';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { JOB_KINDS, JobEvents, JobHandlers, JobOutcome, QueuedJob } from './job-types';
import { JobQueue } from './queue';

/**
 * FIFO queue in this process: the embedded default. Its jobs take the slots of `limiter`
 * (JOB_CONCURRENCY), which the clip embeddings of requests share; a waiting clip goes first.
 */
export class InProcessQueue implements JobQueue {
  private readonly waiting: QueuedJob[] = [];
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private handlers?: JobHandlers;
  private events?: JobEvents;
  private closed = false;
  readonly limiter: ConcurrencyLimiter;

  constructor(concurrency: number | ConcurrencyLimiter = 1) {
    this.limiter = typeof concurrency === 'number' ? new ConcurrencyLimiter(concurrency) : concurrency;
    this.limiter.onFreed(() => this.pump());
  }

  start(handlers: JobHandlers, events: JobEvents): void {
    const missing = JOB_KINDS.filter((name) => typeof handlers[name] !== 'function');
    if (missing.length > 0) throw new InvalidArgumentError(`No handler for job name(s): ${missing.join(', ')}.`);
    this.handlers = handlers;
    this.events = events;
    this.pump();
  }

  async enqueue(job: QueuedJob): Promise<void> {
    if (this.closed) throw new InvalidArgumentError('The job queue is shut down.');
    this.waiting.push(job);
    this.pump();
  }

  cancel(jobId: string): boolean {
    const index = this.waiting.findIndex((j) => j.id === jobId);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      return true;
    }
    const run = this.running.get(jobId);
    if (!run) return false;
    run.controller.abort(new AbortedError('job'));
    return true;
  }

  counts(): { queued: number; running: number } {
    return { queued: this.waiting.length, running: this.running.size };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    const runs = [...this.running.values()];
    for (const run of runs) run.controller.abort(new AbortedError('job'));
    await Promise.allSettled(runs.map((r) => r.done));
  }

  private pump(): void {
    if (!this.handlers || !this.events || this.closed) return;
    while (this.waiting.length > 0) {
      const release = this.limiter.tryAcquire();
      if (!release) return;
      const job = this.waiting.shift()!;
      const controller = new AbortController();
      const done = this.run(job, controller).finally(() => {
        this.running.delete(job.id);
        release(); // pumps again through onFreed when nobody else waits for the slot
      });
      this.running.set(job.id, { controller, done });
    }
  }

  private async run(job: QueuedJob, controller: AbortController): Promise<void> {
    const events = this.events!;
    const handler = this.handlers![job.name] as (payload: unknown, ctx: Parameters<JobHandlers['diarize']>[1]) => Promise<void>;
    try {
      const claim = await events.onStart(job);
      if (claim && !claim.proceed) return;
      await handler(job.payload, {
        jobId: job.id,
        signal: controller.signal,
        assertOwner: claim ? claim.assertOwner : undefined,
        reportProgress: (stage, fraction) => events.onProgress(job, stage, fraction),
      });
      await events.onFinish(job, this.stopped(controller) ?? { state: 'SUCCEEDED' });
    } catch (error) {
      await events.onFinish(job, this.stopped(controller) ?? { state: 'FAILED', error });
    }
  }

  private stopped(controller: AbortController): JobOutcome | undefined {
    if (!controller.signal.aborted) return undefined;
    return this.closed ? { state: 'INTERRUPTED' } : { state: 'CANCELLED' };
  }
}
