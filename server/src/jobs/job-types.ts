import { JobKind, Store } from '../store/types';

export type { JobKind };

/**
 * Job payloads keyed by the stored job kind (store/types.ts defines `JobKind` once): each kind has
 * exactly one handler, and starting a queue without one fails (immich's job repository does the same).
 * diarize: full pipeline (decode → segmentation → embeddings → clustering → turns), then identification.
 * identify: only re-match the meeting's stored speakers to enrolled people (after enrollment changes).
 */
export type JobPayloads = { [K in JobKind]: { meetingId: string } };

/** Every kind, for the "one handler per kind" check; `satisfies` fails to compile when one is missing. */
export const JOB_KINDS = ['diarize', 'identify'] as const satisfies readonly JobKind[];
type MissingKind = Exclude<JobKind, (typeof JOB_KINDS)[number]>;
const allKindsListed: [MissingKind] extends [never] ? true : never = true;
void allKindsListed;

export interface QueuedJob<N extends JobKind = JobKind> {
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

export type JobHandler<N extends JobKind> = (payload: JobPayloads[N], ctx: JobContext) => Promise<void>;
export type JobHandlers = { [N in JobKind]: JobHandler<N> };

/** Outcome of one run as the queue saw it; the job service turns it into a stored state. */
/** INTERRUPTED: the queue shut down mid-run; the job goes back to QUEUED and runs again at the next start. */
export type JobOutcome = { state: 'SUCCEEDED' } | { state: 'CANCELLED' } | { state: 'INTERRUPTED' } | { state: 'FAILED'; error: unknown };

export interface JobEvents {
  onStart(job: QueuedJob): Promise<JobClaim | void> | JobClaim | void;
  onProgress(job: QueuedJob, stage: string, fraction: number): void;
  onFinish(job: QueuedJob, outcome: JobOutcome): Promise<void> | void;
}
