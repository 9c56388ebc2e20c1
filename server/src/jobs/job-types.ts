import { Store } from '../store/types';

/**
 * Job names and payloads as one typed union: each name has exactly one handler, and starting a
 * queue without one fails (immich's job repository does the same).
 */
export interface JobPayloads {
  /** Full pipeline: decode → segmentation → embeddings → clustering → turns, then identification. */
  diarize: { meetingId: string };
  /** Only re-match the meeting's stored speakers to enrolled people (after enrollment changes). */
  identify: { meetingId: string };
}

export type JobName = keyof JobPayloads;
export const JOB_NAMES: readonly JobName[] = ['diarize', 'identify'];

export interface QueuedJob<N extends JobName = JobName> {
  id: string;
  name: N;
  payload: JobPayloads[N];
  /** Lower runs first (BullMQ): new uploads 1, batch reprocessing 10. */
  priority?: number;
}

export interface JobContext {
  jobId: string;
  /** Fires when the job is cancelled or the server shuts down. */
  signal: AbortSignal;
  /** Overall fraction in [0, 1] and the stage being worked on. */
  reportProgress(stage: string, fraction: number): void;
  /**
   * Call first inside the transaction that writes the result: throws when this run no longer owns
   * the job (cancelled, or taken over by another worker after a lost lock), which rolls it back.
   */
  assertOwner?(tx: Store): Promise<void>;
}

/** What onStart decides: run the job (as attempt n) or skip it. */
export interface JobClaim {
  proceed: boolean;
  attempt: number;
  assertOwner(tx: Store): Promise<void>;
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N], ctx: JobContext) => Promise<void>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

/** Outcome of one run as the queue saw it; the job service turns it into a stored state. */
/** INTERRUPTED: the queue shut down mid-run; the job goes back to QUEUED and runs again at the next start. */
export type JobOutcome = { state: 'SUCCEEDED' } | { state: 'CANCELLED' } | { state: 'INTERRUPTED' } | { state: 'FAILED'; error: unknown };

export interface JobEvents {
  onStart(job: QueuedJob): Promise<JobClaim | void> | JobClaim | void;
  onProgress(job: QueuedJob, stage: string, fraction: number): void;
  onFinish(job: QueuedJob, outcome: JobOutcome): Promise<void> | void;
}
