/**
 * Clip tasks on BullMQ (a private redis-server): an API process sends a clip to the workers and
 * waits for the answer; with no worker, a busy one, a dead Redis or another model it answers with
 * a clear code. The worker side runs a stand-in embedder here (the engine is exercised in
 * scale-out.test.ts); what is tested is the request/answer path and its bounds.
 */
import { ClipTooLongError } from '../server/src/common/errors';
import { ClipTaskQueue, ClipTaskWorker } from '../server/src/jobs/clip-tasks';
import { ConcurrencyLimiter } from '../server/src/jobs/concurrency-limiter';
import { ClipEmbedder, ClipEmbedding, EmbedClipRequest } from '../server/src/jobs/clip-embedding';
import { UploadRecord } from '../server/src/store/types';
import { waitFor } from './support/platform';
import { Child, startRedis } from './support/processes';

jest.setTimeout(60_000);

const MODEL = { name: 'stand-in', hash: 'a'.repeat(64) };
const TIMEOUT_MS = 1500;

function upload(id: string, durationSec = 6): UploadRecord {
  return { id, originalName: `${id}.wav`, path: `uploads/${id}.wav`, bytes: 1000, format: 'wav', durationSec, createdAt: new Date().toISOString() };
}
const uploads = new Map(['u1', 'u2', 'u3', 'bad'].map((id) => [id, upload(id)]));

/** Embeds in `limiter`'s slots like the real in-process embedder; records what it was asked. */
class StandInEmbedder implements ClipEmbedder {
  readonly asked: string[] = [];
  constructor(
    private readonly limiter: ConcurrencyLimiter,
    private readonly model = MODEL,
  ) {}
  check(): void {}
  async embed(u: UploadRecord, request: EmbedClipRequest = {}): Promise<ClipEmbedding> {
    return this.limiter.run(
      async () => {
        this.asked.push(u.id);
        if (u.id === 'bad') throw new ClipTooLongError(7200, 600);
        return { embedding: Float32Array.from([u.id.length, 0.5, -0.25]), speechSec: 6, model: this.model };
      },
      { timeoutMs: Math.max(0, (request.deadline ?? Infinity) - Date.now()) },
    );
  }
}

let redis: Child;
let api: ClipTaskQueue;
const apiLog: string[] = [];
const workerLog: string[] = [];
const closers: Array<() => Promise<void>> = [];

function startWorker(limiter: ConcurrencyLimiter, embedder: ClipEmbedder): ClipTaskWorker {
  const worker = new ClipTaskWorker({
    redisUrl: `redis://127.0.0.1:${redis.port}`,
    store: { getUpload: async (id) => uploads.get(id) },
    embedder,
    limiter,
    log: (line) => workerLog.push(line),
  });
  closers.push(() => worker.close());
  return worker;
}

beforeAll(async () => {
  redis = await startRedis();
  api = new ClipTaskQueue({
    redisUrl: `redis://127.0.0.1:${redis.port}`,
    timeoutMs: TIMEOUT_MS,
    maxClipSec: 600,
    model: MODEL,
    log: (line) => apiLog.push(line),
  });
  await new Promise((r) => setTimeout(r, 300)); // connected
});

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  await api?.close().catch(() => undefined);
  await redis?.kill('SIGKILL');
});

it('no worker running: NO_WORKER at once; a clip over MAX_CLIP_SEC by its stored duration is refused before any task', async () => {
  await expect(api.embed(uploads.get('u1')!)).rejects.toMatchObject({ code: 'NO_WORKER' });
  await expect(api.embed(upload('long', 7200))).rejects.toMatchObject({ code: 'CLIP_TOO_LONG' });
});

it('a worker answers: the embedding arrives, both sides log the same task id, a worker-side refusal keeps its code', async () => {
  const limiter = new ConcurrencyLimiter(1);
  const embedder = new StandInEmbedder(limiter);
  startWorker(limiter, embedder);
  await new Promise((r) => setTimeout(r, 500));
  const answer = await api.embed(uploads.get('u1')!);
  expect(Array.from(answer.embedding)).toEqual([2, 0.5, -0.25]);
  expect(answer.model).toEqual(MODEL);
  const taskId = /clip task (\S+) \(upload u1\) answered by worker/.exec(apiLog.join('\n'))?.[1];
  expect(taskId).toBeDefined();
  expect(workerLog.join('\n')).toContain(`clip task ${taskId} (upload u1) answered`);

  await expect(api.embed(uploads.get('bad')!)).rejects.toMatchObject({ code: 'CLIP_TOO_LONG', message: expect.stringMatching(/120\.0 min/) });
  await expect(api.embed(upload('gone'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  for (const close of closers.splice(0)) await close();
});

it('every engine slot of the worker busy (a long job): CLIP_TASK_TIMEOUT, and the stale task is never run later', async () => {
  const limiter = new ConcurrencyLimiter(1);
  const embedder = new StandInEmbedder(limiter);
  const release = limiter.tryAcquire()!; // a meeting job holds the only slot
  startWorker(limiter, embedder);
  await new Promise((r) => setTimeout(r, 500));
  const started = Date.now();
  await expect(api.embed(uploads.get('u2')!)).rejects.toMatchObject({ code: 'CLIP_TASK_TIMEOUT' });
  expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1000);
  release();
  await new Promise((r) => setTimeout(r, 1000));
  expect(embedder.asked).not.toContain('u2');
  // Free again: the next clip is answered.
  expect(Array.from((await api.embed(uploads.get('u3')!)).embedding)[0]).toBe(2);
  for (const close of closers.splice(0)) await close();
});

it('a worker with another embedding model: MODEL_MISMATCH, never a wrong-space match', async () => {
  const limiter = new ConcurrencyLimiter(1);
  startWorker(limiter, new StandInEmbedder(limiter, { name: 'other', hash: 'b'.repeat(64) }));
  await new Promise((r) => setTimeout(r, 500));
  await expect(api.embed(uploads.get('u1')!)).rejects.toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringMatching(/same EMBEDDING_MODEL/) });
  for (const close of closers.splice(0)) await close();
});

it('Redis gone: QUEUE_UNAVAILABLE at once, not a hang', async () => {
  await redis.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  await expect(api.embed(uploads.get('u1')!)).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
  expect(Date.now() - started).toBeLessThan(500);
  // Redis back (empty): the API process reconnects by itself and answers again (no worker yet).
  redis = await startRedis(redis.port);
  await waitFor('the API to reconnect', async () =>
    api.embed(uploads.get('u1')!).then(
      () => 'answered',
      (error: { code?: string }) => (error.code === 'NO_WORKER' ? error.code : undefined),
    ),
  );
});
