import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { configureLogging, logLine, rootLogger, withLogger } from '../logging/logger';
import { AppError, InvalidAudioError } from '../common/errors';
import type { FinishedJobMetrics } from '../metrics/metrics';
import { openStore } from '../store/database';
import type { Store } from '../store/types';
import { InProcessQueue } from './in-process-queue';
import { JobService } from './job-service';
import { JobClaim, JobEvents, JobHandlers, QueuedJob } from './job-types';
import { JobQueue } from './queue';

/** A shared queue that runs nothing: the test plays the worker through the events it was given. */
class SharedQueueProbe implements JobQueue {
  readonly shared = true;
  events?: JobEvents;
  readonly held = new Set<string>();
  readonly enqueued: QueuedJob[] = [];
  start(_handlers: JobHandlers, events: JobEvents): void {
    this.events = events;
  }
  async enqueue(job: QueuedJob): Promise<void> {
    this.enqueued.push(job);
    this.held.add(job.id);
  }
  cancel(): boolean {
    return false;
  }
  async holds(jobId: string): Promise<boolean> {
    return this.held.has(jobId);
  }
  counts() {
    return { queued: 0, running: 0 };
  }
  async close(): Promise<void> {}
}

const noHandlers = { diarize: async () => undefined, identify: async () => undefined } as JobHandlers;

/** A meeting row (and its upload) for a job to belong to. */
async function newMeeting(store: Store) {
  const uploadId = randomUUID();
  await store.insertUpload({
    id: uploadId,
    originalName: 'a.wav',
    path: `uploads/${uploadId}.wav`,
    bytes: 1,
    format: 'wav',
    durationSec: 1,
    createdAt: new Date().toISOString(),
  });
  return store.insertMeeting({ id: randomUUID(), title: 't', tags: [], uploadId, audioPath: `uploads/${uploadId}.wav`, durationSec: 1 });
}

describe('JobService on a shared queue: ownership of a run', () => {
  let dir: string;
  let store: Store;
  let queue: SharedQueueProbe;
  let jobs: JobService;
  let finished: FinishedJobMetrics[];

  beforeEach(async () => {
    finished = [];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-service-'));
    store = await openStore({ dataDir: dir });
    await store.migrate();
    queue = new SharedQueueProbe();
    jobs = new JobService(
      store,
      queue,
      () => undefined,
      () => undefined,
      { maxAttempts: 2, reconcileIntervalMs: 60_000, onFinished: (job) => void finished.push(job) },
    );
    await jobs.start(noHandlers);
  });
  afterEach(async () => {
    await jobs.stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const newJob = async () => jobs.submit('diarize', (await newMeeting(store)).id);

  const queued = (id: string, meetingId: string): QueuedJob => ({ id, name: 'diarize', payload: { meetingId } });

  it('a run that lost its job (taken over as the next attempt) writes nothing and cannot finish it', async () => {
    const job = await newJob();
    const first = (await queue.events!.onStart(queued(job.id, job.meetingId))) as JobClaim;
    expect(first).toMatchObject({ proceed: true, attempt: 1 });
    // The first worker's lock expired; another worker takes the job as attempt 2.
    const second = (await queue.events!.onStart(queued(job.id, job.meetingId))) as JobClaim;
    expect(second).toMatchObject({ proceed: true, attempt: 2 });

    await expect(store.transaction((tx) => first.assertOwner(tx))).rejects.toMatchObject({ code: 'JOB_LOST' });
    await expect(store.transaction((tx) => second.assertOwner(tx))).resolves.toBeUndefined();
    await queue.events!.onFinish(queued(job.id, job.meetingId), { state: 'SUCCEEDED' });
    expect(await store.getJob(job.id)).toMatchObject({ state: 'SUCCEEDED', attempts: 2 });
  });

  it('a cancel from another process wins over the running worker: CANCELLED, never SUCCEEDED', async () => {
    const job = await newJob();
    const claim = (await queue.events!.onStart(queued(job.id, job.meetingId))) as JobClaim;
    expect((await jobs.cancel(job.id)).state).toBe('CANCELLED');
    await expect(store.transaction((tx) => claim.assertOwner(tx))).rejects.toBeInstanceOf(AppError);
    await queue.events!.onFinish(queued(job.id, job.meetingId), { state: 'SUCCEEDED' });
    expect((await store.getJob(job.id))!.state).toBe('CANCELLED');
    // A worker that picks a cancelled job up later skips it.
    expect(await queue.events!.onStart(queued(job.id, job.meetingId))).toMatchObject({ proceed: false });
  });

  it('caps attempts: once JOB_MAX_ATTEMPTS runs started, the next start fails the job with the reason', async () => {
    const job = await newJob();
    await queue.events!.onStart(queued(job.id, job.meetingId));
    await queue.events!.onStart(queued(job.id, job.meetingId));
    expect(await queue.events!.onStart(queued(job.id, job.meetingId))).toMatchObject({ proceed: false });
    expect(await store.getJob(job.id)).toMatchObject({ state: 'FAILED', errorCode: 'TOO_MANY_ATTEMPTS', attempts: 2 });
  });

  it('tells onFinished of each job this process brought to a final state: run time, time per reported stage, audio length, error code', async () => {
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const ok = await newJob();
    const run = queued(ok.id, ok.meetingId);
    await queue.events!.onStart(run);
    queue.events!.onProgress(run, 'ingest', 0);
    await pause(60); // a chunk being segmented
    queue.events!.onProgress(run, 'segmentation', 0.2);
    await pause(60);
    queue.events!.onProgress(run, 'segmentation', 0.5);
    await pause(60);
    queue.events!.onProgress(run, 'clustering', 0.9);
    queue.events!.onProgress(run, 'segmentation', 0.9); // named again (a second channel): adds up
    await queue.events!.onFinish(run, { state: 'SUCCEEDED' });

    const bad = await newJob();
    await queue.events!.onStart(queued(bad.id, bad.meetingId));
    await queue.events!.onFinish(queued(bad.id, bad.meetingId), { state: 'FAILED', error: new InvalidAudioError('"a.wav" contains no audio samples.') });

    expect(finished).toHaveLength(2);
    const [succeeded, failed] = finished;
    expect(succeeded).toMatchObject({ kind: 'diarize', state: 'SUCCEEDED', audioSec: 1, errorCode: undefined });
    expect(Object.keys(succeeded.stagesSec!)).toEqual(['ingest', 'segmentation', 'clustering']);
    // The time up to a report counts for the stage it names; the stages add up to the run time.
    expect(succeeded.stagesSec!.segmentation).toBeGreaterThanOrEqual(0.1);
    expect(succeeded.stagesSec!.clustering).toBeGreaterThanOrEqual(0.05);
    expect(succeeded.stagesSec!.ingest).toBeLessThan(succeeded.stagesSec!.segmentation);
    const staged = Object.values(succeeded.stagesSec!).reduce((a, b) => a + b, 0);
    expect(succeeded.seconds).toBeCloseTo(staged, 6);
    expect(failed).toMatchObject({ kind: 'diarize', state: 'FAILED', errorCode: 'INVALID_AUDIO', audioSec: undefined });
    expect(failed.seconds).toBeGreaterThanOrEqual(0);
  });

  it('tells onFinished nothing of a run that lost its job, and of a cap on attempts without a run time', async () => {
    const lost = await newJob();
    await queue.events!.onStart(queued(lost.id, lost.meetingId));
    await jobs.cancel(lost.id); // cancelled by another process meanwhile
    await queue.events!.onFinish(queued(lost.id, lost.meetingId), { state: 'SUCCEEDED' });
    expect(finished).toEqual([]);

    const capped = await newJob();
    await queue.events!.onStart(queued(capped.id, capped.meetingId));
    await queue.events!.onFinish(queued(capped.id, capped.meetingId), { state: 'INTERRUPTED' }); // back to QUEUED: not final
    await queue.events!.onStart(queued(capped.id, capped.meetingId));
    await queue.events!.onStart(queued(capped.id, capped.meetingId));
    expect(finished).toEqual([
      { kind: 'diarize', state: 'FAILED', seconds: undefined, audioSec: undefined, errorCode: 'TOO_MANY_ATTEMPTS', stagesSec: undefined },
    ]);
  });

  it('reconciles: rows the queue no longer holds are queued again (RUNNING ones reset), held ones are left alone', async () => {
    const lost = await newJob();
    const running = await newJob();
    const held = await newJob();
    await queue.events!.onStart(queued(running.id, running.meetingId));
    queue.held.clear(); // Redis restarted empty
    queue.held.add(held.id);
    queue.enqueued.length = 0;
    expect(await jobs.reconcile()).toBe(2);
    expect(queue.enqueued.map((j) => j.id).sort()).toEqual([lost.id, running.id].sort());
    expect((await store.getJob(running.id))!.state).toBe('QUEUED');
    expect(queue.enqueued.every((j) => j.priority === 1)).toBe(true); // uploads, not batch jobs
  });

  it('a batch and its jobs are written together: all queued at batch priority, or nothing when one meeting fails', async () => {
    const meetings = [await newMeeting(store), await newMeeting(store)];
    const { batch, jobs: written } = await jobs.submitBatch(
      'identify',
      meetings.map((m) => m.id),
    );
    expect((await store.jobsOfBatch(batch.id)).map((j) => j.id).sort()).toEqual(written.map((j) => j.id).sort());
    expect(queue.enqueued.map((j) => j.id)).toEqual(written.map((j) => j.id));
    expect(queue.enqueued.every((j) => j.priority === 10)).toBe(true);
    expect((await store.getMeeting(meetings[1].id))!.latestJobId).toBe(written[1].id);

    // A meeting that does not exist (deleted meanwhile) makes the insert fail half-way: no batch, no job.
    queue.enqueued.length = 0;
    const before = await store.jobsOfMeeting(meetings[0].id);
    await expect(jobs.submitBatch('diarize', [meetings[0].id, randomUUID()])).rejects.toThrow();
    expect(await store.jobsOfMeeting(meetings[0].id)).toHaveLength(before.length);
    expect((await store.getMeeting(meetings[0].id))!.latestJobId).toBe(written[0].id);
    expect(queue.enqueued).toHaveLength(0);
  });
});

describe('JobService log lines', () => {
  const raw: string[] = [];
  const lines = () => raw.map((chunk) => JSON.parse(chunk) as Record<string, unknown>);
  let dir: string;
  let store: Store;
  let jobs: JobService;
  let queue: InProcessQueue;

  beforeAll(() => {
    configureLogging({ service: 'server', level: 'info', destination: { write: (chunk: string) => void raw.push(chunk) } });
  });
  beforeEach(async () => {
    raw.length = 0;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-log-'));
    store = await openStore({ dataDir: dir });
    await store.migrate();
    queue = new InProcessQueue(1);
    const log = logLine();
    jobs = new JobService(store, queue, () => undefined, log);
    await jobs.start({
      // What the pipeline logs while it runs (through the same kind of callback the engine is given).
      diarize: async () => {
        log('decoding');
        await new Promise((resolve) => setTimeout(resolve, 5));
        log('clustering');
      },
      identify: async () => {
        throw new Error(`index file ${path.join(dir, 'x.hnsw')} is corrupt`);
      },
    });
  });
  afterEach(async () => {
    await jobs.stop();
    await queue.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function runJob(kind: 'diarize' | 'identify') {
    const meeting = await newMeeting(store);
    // Submitted from inside a request: the job's lines must not carry that request's id.
    const job = await withLogger(rootLogger().child({ requestId: 'req-1' }), () => jobs.submit(kind, meeting.id));
    for (let i = 0; i < 200 && !['SUCCEEDED', 'FAILED'].includes((await store.getJob(job.id))!.state); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    return { job, meeting };
  }

  it('every line a running job writes carries jobId, attempt and meetingId, and not the request that queued it', async () => {
    const { job, meeting } = await runJob('diarize');
    const mine = lines().filter((l) => l.jobId === job.id);
    expect(mine.map((l) => l.msg)).toEqual([`job ${job.id} (diarize) attempt 1 started`, 'decoding', 'clustering']);
    for (const line of mine) expect(line).toMatchObject({ level: 'info', attempt: 1, meetingId: meeting.id, service: 'server' });
    expect(mine.some((l) => 'requestId' in l)).toBe(false);
  });

  it('a failed job is logged at error with its ids and the full text', async () => {
    const { job, meeting } = await runJob('identify');
    const failure = lines().find((l) => String(l.msg).startsWith(`job ${job.id} (identify) failed:`));
    expect(failure).toMatchObject({ level: 'error', jobId: job.id, attempt: 1, meetingId: meeting.id });
    // The log keeps the absolute path that job errors shown to clients leave out.
    expect(String(failure!.msg)).toContain(`index file ${path.join(dir, 'x.hnsw')} is corrupt`);
  });
});
