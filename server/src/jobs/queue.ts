import { JobEvents, JobHandlers, QueuedJob } from './job-types';

/**
 * What the platform needs from a job queue. The embedded default runs jobs in this process
 * (in-process-queue.ts); a Redis/BullMQ implementation with many workers plugs in behind the same
 * interface, and handlers never know which one runs them.
 */
export interface JobQueue {
  /** True when other processes share the queue (BullMQ): rows are reconciled, never blindly re-queued. */
  readonly shared?: boolean;
  /** Shared queues: whether the queue still holds the job (waiting or running somewhere). */
  holds?(jobId: string): Promise<boolean>;
  /** Shared queues: called on every (re)connection, when jobs may have been lost. */
  onReady?(fn: () => void): void;
  /** Shared queues: whether the connection to the queue's server (Redis) is up right now (/healthz). */
  reachable?(): boolean;
  /** Registers the handlers (one per job name: a missing one is an error) and starts running jobs. */
  start(handlers: JobHandlers, events: JobEvents): void;
  enqueue(job: QueuedJob): Promise<void>;
  /** Cancels a queued or running job; false when the queue does not hold it. */
  cancel(jobId: string): boolean;
  counts(): { queued: number; running: number };
  /** Stops taking jobs and aborts the running ones (they are re-queued at the next start). */
  close(): Promise<void>;
}
