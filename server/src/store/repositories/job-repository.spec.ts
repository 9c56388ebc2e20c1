import { randomUUID } from 'node:crypto';

import { describeStore, rejection, inCreationOrder } from '../store-spec-support';

describeStore('job repository', (fx) => {
  const { newMeeting } = fx;

  // ---- jobs and batches

  it('creates, updates, clears and lists jobs', async () => {
    const meeting = await newMeeting();
    const job = await fx.store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId: meeting.id });
    expect(job).toMatchObject({ kind: 'diarize', meetingId: meeting.id, state: 'QUEUED', progress: 0, attempts: 0 });
    expect(job.batchId).toBeUndefined();
    expect(job.stage).toBeUndefined();
    expect(await fx.store.getJob(job.id)).toEqual(job);

    const running = await fx.store.updateJob(job.id, {
      state: 'RUNNING',
      stage: 'segmentation',
      progress: 0.25,
      attempts: 1,
      startedAt: '2025-03-01T10:00:00.000Z',
    });
    expect(running).toMatchObject({ state: 'RUNNING', stage: 'segmentation', progress: 0.25, attempts: 1, startedAt: '2025-03-01T10:00:00.000Z' });
    const failed = await fx.store.updateJob(job.id, {
      state: 'FAILED',
      stage: null,
      errorCode: 'INVALID_AUDIO',
      errorMessage: 'Decoding failed.',
      finishedAt: '2025-03-01T10:01:00.000Z',
    });
    expect(failed).toMatchObject({ state: 'FAILED', errorCode: 'INVALID_AUDIO', errorMessage: 'Decoding failed.', progress: 0.25 });
    expect(failed?.stage).toBeUndefined();
    expect(await fx.store.updateJob(job.id, {})).toEqual(failed);
    expect(await fx.store.updateJob('no-such-job', { state: 'RUNNING' })).toBeUndefined();

    const second = await fx.store.insertJob({ id: randomUUID(), kind: 'identify', meetingId: meeting.id });
    expect((await fx.store.jobsOfMeeting(meeting.id)).map((j) => j.id)).toEqual(inCreationOrder([job, second]));
    const queued = await fx.store.jobsInState(['QUEUED']);
    expect(queued.map((j) => j.id)).toContain(second.id);
    expect(queued.map((j) => j.id)).not.toContain(job.id);
    expect((await fx.store.jobsInState(['FAILED', 'QUEUED'])).map((j) => j.id)).toEqual(expect.arrayContaining([job.id, second.id]));
    expect(await fx.store.jobsInState([])).toEqual([]);
    expect((await fx.store.getJobs([second.id, 'nope', job.id])).map((j) => j.id)).toEqual([second.id, job.id]);
    expect(await fx.store.getJob('no-such-job')).toBeUndefined();
  });

  it('counts jobs by state, leaving out states with none', async () => {
    const before = await fx.store.countJobsByState();
    const meeting = await newMeeting();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) await fx.store.insertJob({ id, kind: 'diarize', meetingId: meeting.id });
    await fx.store.updateJob(ids[0], { state: 'SUCCEEDED' });
    await fx.store.updateJob(ids[1], { state: 'FAILED', errorCode: 'INVALID_AUDIO' });
    const after = await fx.store.countJobsByState();
    const delta = (state: keyof typeof after) => (after[state] ?? 0) - (before[state] ?? 0);
    expect({ QUEUED: delta('QUEUED'), SUCCEEDED: delta('SUCCEEDED'), FAILED: delta('FAILED'), RUNNING: delta('RUNNING') }).toEqual({
      QUEUED: 1,
      SUCCEEDED: 1,
      FAILED: 1,
      RUNNING: 0,
    });
    for (const n of Object.values(after)) expect(typeof n).toBe('number'); // PostgreSQL's count is a bigint string
    expect(Object.values(after).every((n) => n > 0)).toBe(true);
  });

  it('refuses a job for an unknown meeting with NOT_FOUND', async () => {
    const error = await rejection(fx.store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId: 'no-such-meeting' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('no-such-meeting');
  });

  it('keeps batches with their jobs and notes in order', async () => {
    const batch = await fx.store.insertBatch({ id: randomUUID(), kind: 'identify' });
    expect(batch).toMatchObject({ kind: 'identify', notes: [] });
    const [a, b] = [await newMeeting(), await newMeeting()];
    const jobA = await fx.store.insertJob({ id: randomUUID(), kind: 'identify', meetingId: a.id, batchId: batch.id });
    const jobB = await fx.store.insertJob({ id: randomUUID(), kind: 'identify', meetingId: b.id, batchId: batch.id });
    expect(jobA.batchId).toBe(batch.id);
    expect((await fx.store.jobsOfBatch(batch.id)).map((j) => j.id)).toEqual(inCreationOrder([jobA, jobB]));
    await fx.store.addBatchNotes(batch.id, [
      { meetingId: b.id, message: 'Speaker "Ana" had no match' },
      { meetingId: a.id, message: 'second' },
    ]);
    await fx.store.addBatchNotes(batch.id, [{ meetingId: a.id, message: 'third' }]);
    await fx.store.addBatchNotes(batch.id, []);
    const loaded = await fx.store.getBatch(batch.id);
    expect(loaded).toEqual({
      ...batch,
      notes: [
        { meetingId: b.id, message: 'Speaker "Ana" had no match' },
        { meetingId: a.id, message: 'second' },
        { meetingId: a.id, message: 'third' },
      ],
    });
    expect(await fx.store.getBatch('no-such-batch')).toBeUndefined();
    expect((await rejection(fx.store.addBatchNotes('no-such-batch', [{ meetingId: a.id, message: 'x' }]))).code).toBe('NOT_FOUND');
    expect((await rejection(fx.store.insertJob({ id: randomUUID(), kind: 'identify', meetingId: a.id, batchId: 'no-such-batch' }))).code).toBe('NOT_FOUND');
  });
});
