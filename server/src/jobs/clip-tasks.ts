/**
 * Clip embeddings (findSpeaker, enrollFromUploads) as internal BullMQ tasks, for API processes that
 * never run the engine (REDIS_URL). They are not meeting jobs: no database row, a queue of their
 * own, and an API process waits for the answer (Job.waitUntilFinished on QueueEvents) at most
 * CLIP_TASK_TIMEOUT_S. A worker answers them in the same engine slots as its meeting jobs.
 */
import os from 'node:os';
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';

import { AppError, ErrorCode, ModelMismatchError, NotFoundError } from '../common/errors';
import type { ModelIdentity } from '../diarization/engine';
import { assertStoredClipDuration, ClipEmbedder, ClipEmbedding, ClipTaskTimeoutError, EmbedClipRequest } from './clip-embedding';
import type { Store, UploadRecord } from '../store/types';
import type { ConcurrencyLimiter } from './concurrency-limiter';

export const CLIP_TASK_QUEUE = 'clip-tasks';

interface ClipTaskData {
  uploadId: string;
  /** Epoch ms after which the asking process no longer waits: a worker that takes it later skips it. */
  deadline: number;
}

/** A task always completes; an error travels as data so that its code and message arrive intact. */
type ClipTaskAnswer =
  { ok: true; embedding: number[]; speechSec: number; model: ModelIdentity; worker: string } | { ok: false; code: ErrorCode; message: string };

/** No worker process is connected to the task queue. */
export class NoWorkerError extends AppError {
  constructor() {
    super('NO_WORKER', 'No worker is running to embed the clip (start one with `npm run worker`, same REDIS_URL). Retry once one is up.');
  }
}

class TaskQueueUnavailableError extends AppError {
  constructor() {
    super('QUEUE_UNAVAILABLE', 'The task queue (Redis) is unreachable right now, so the clip cannot be sent to a worker. Retry in a moment.');
  }
}

/** How long finished tasks stay in Redis: long enough for a waiter that polls after the event. */
const KEEP_FINISHED_S = 300;

export interface ClipTaskQueueOptions {
  redisUrl: string;
  timeoutMs: number;
  maxClipSec: number;
  /** This process's model: an answer from a worker with another model is refused (wrong voice space). */
  model: ModelIdentity;
  log: (line: string) => void;
}

/** The API side: sends a clip to the workers and waits for the embedding. */
export class ClipTaskQueue implements ClipEmbedder {
  private readonly connection: Redis;
  private readonly queue: Queue<ClipTaskData, ClipTaskAnswer>;
  private readonly events: QueueEvents;
  private readonly eventsConnection: Redis;

  constructor(private readonly options: ClipTaskQueueOptions) {
    this.connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', () => undefined);
    this.queue = new Queue(CLIP_TASK_QUEUE, { connection: this.connection });
    this.queue.on('error', () => undefined);
    // QueueEvents blocks on its connection (XREAD), so it gets one of its own.
    this.eventsConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.eventsConnection.on('error', () => undefined);
    this.events = new QueueEvents(CLIP_TASK_QUEUE, { connection: this.eventsConnection });
    this.events.on('error', () => undefined);
  }

  check(upload: UploadRecord): void {
    assertStoredClipDuration(upload, this.options.maxClipSec);
  }

  async embed(upload: UploadRecord, request: EmbedClipRequest = {}): Promise<ClipEmbedding> {
    const { timeoutMs, maxClipSec, model, log } = this.options;
    // Refused here by the duration ffprobe gave at upload; the worker probes the file again before decoding.
    assertStoredClipDuration(upload, maxClipSec);
    if (this.connection.status !== 'ready') throw new TaskQueueUnavailableError();
    if ((await this.workers()) === 0) throw new NoWorkerError();
    const started = Date.now();
    const task = await this.queue.add(
      'embed',
      { uploadId: upload.id, deadline: Math.min(started + timeoutMs, request.deadline ?? Infinity) },
      { attempts: 1, removeOnComplete: { age: KEEP_FINISHED_S }, removeOnFail: { age: KEEP_FINISHED_S } },
    );
    let answer: ClipTaskAnswer;
    try {
      answer = await task.waitUntilFinished(this.events, timeoutMs);
    } catch (error) {
      // Still waiting: nobody will use the answer, so it goes (an active one is locked and runs out).
      await task.remove().catch(() => undefined);
      if (error instanceof Error && /timed out/.test(error.message)) throw new ClipTaskTimeoutError(Math.round(timeoutMs / 1000), 'worker');
      throw error;
    }
    if (!answer.ok) throw new AppError(answer.code, answer.message);
    if (answer.model.hash !== model.hash)
      throw new ModelMismatchError(
        `The worker embedded the clip with ${answer.model.name} (${answer.model.hash.slice(0, 12)}), but this API process uses ${model.name} (${model.hash.slice(0, 12)}). Run every process with the same EMBEDDING_MODEL.`,
      );
    log(`clip task ${task.id} (upload ${upload.id}) answered by worker ${answer.worker} in ${Date.now() - started} ms`);
    return { embedding: Float32Array.from(answer.embedding), speechSec: answer.speechSec, model: answer.model };
  }

  /** Workers listening on the task queue; unknown (assumed some) where Redis hides its client list. */
  private async workers(): Promise<number> {
    try {
      return await this.queue.getWorkersCount();
    } catch {
      return 1;
    }
  }

  /** Closes cleanly when Redis answers; otherwise (it is down) gives up after a moment instead of waiting for it. */
  async close(): Promise<void> {
    const closed = Promise.all([this.events.close(), this.queue.close()]).catch(() => undefined);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    this.eventsConnection.disconnect();
    this.connection.disconnect();
  }
}

const CLOSE_WAIT_MS = 2000;

export interface ClipTaskWorkerOptions {
  redisUrl: string;
  store: Pick<Store, 'getUpload'>;
  /** Runs the engine in this process, in `limiter`'s slots. */
  embedder: ClipEmbedder;
  limiter: ConcurrencyLimiter;
  log: (line: string) => void;
}

/**
 * The worker side: answers clip tasks. While every engine slot of this process is busy it fetches
 * none (paused), so a task goes to a worker that can run it now instead of waiting here.
 */
export class ClipTaskWorker {
  private readonly worker: Worker<ClipTaskData, ClipTaskAnswer>;
  private readonly name = `${os.hostname()}:${process.pid}`;
  private readonly stopFollowing: () => void;
  private readonly connection: Redis;

  constructor(private readonly options: ClipTaskWorkerOptions) {
    const { limiter } = options;
    // A connection passed in is the caller's to close (BullMQ closes only the ones it made).
    this.connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', () => undefined);
    this.worker = new Worker(CLIP_TASK_QUEUE, (job) => this.answer(job), {
      connection: this.connection,
      concurrency: limiter.slots,
    });
    this.worker.on('error', (error) => options.log(`clip task worker: ${error.message}`));
    const follow = () => {
      if (limiter.busy >= limiter.slots) void this.worker.pause(true);
      else void this.worker.resume();
    };
    this.stopFollowing = limiter.onChange(follow);
    follow();
  }

  private async answer(job: Job<ClipTaskData>): Promise<ClipTaskAnswer> {
    const { uploadId, deadline } = job.data;
    const started = Date.now();
    try {
      if (started > deadline) throw new AppError('CLIP_TASK_TIMEOUT', 'The clip task waited past its deadline; nobody waits for its answer any more.');
      const upload = await this.options.store.getUpload(uploadId);
      if (!upload) throw new NotFoundError('upload', uploadId);
      const result = await this.options.embedder.embed(upload, { deadline });
      this.options.log(`clip task ${job.id} (upload ${uploadId}) answered in ${Date.now() - started} ms`);
      return { ok: true, embedding: Array.from(result.embedding), speechSec: result.speechSec, model: result.model, worker: this.name };
    } catch (error) {
      if (error instanceof AppError) return { ok: false, code: error.code, message: error.message };
      // The full text stays in this worker's log; the asker gets no internals.
      this.options.log(`clip task ${job.id} (upload ${uploadId}) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return { ok: false, code: 'INTERNAL', message: 'The worker could not embed the clip; the error is in its log. Retry, and report it if it persists.' };
    }
  }

  async close(): Promise<void> {
    this.stopFollowing();
    await this.worker.close();
    this.connection.disconnect();
  }
}
