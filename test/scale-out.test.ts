/**
 * The platform as many processes: two API processes (`npm run serve` with REDIS_URL) and two
 * workers (`npm run worker`) on one PostgreSQL schema and a private redis-server. Jobs run exactly
 * once, survive a SIGKILLed worker and an emptied Redis, cancel and progress cross processes, and
 * voice-index changes made through one process reach the others.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { Client } from 'pg';
import WebSocket from 'ws';

import { dropPostgresSchema } from '../server/src/store/database';
import { ffmpeg, tempDir } from './helpers/media';
import { POSTGRES_URL, scaledOutEnv, uploadFile, waitFor } from './support/platform';
import { Child, startPlatformProcess, startRedis, startTcpProxy } from './support/processes';

jest.setTimeout(600_000);

const DEV = path.resolve(__dirname, '../../shared/data/dev/diarization');
const SAMPLE = path.join(DEV, 'pyannote_sample.wav');
const ADMIN_TOKEN = `scale-out-admin-${randomBytes(12).toString('hex')}`;

const media = tempDir('scale-media');
/** 5.9 s of one voice (speaker91 alone in the reference RTTM): a cheap job. */
const CLIP = path.join(media.dir, 'speaker91.wav');
/** The 30 s two-speaker sample three times over: long enough to kill a worker in the middle. */
// Ten minutes: long enough that a run is still under way when the test kills or cancels it on a busy machine.
const LONG = path.join(media.dir, 'sample-x20.wav');

const schema = `t_scale_${randomBytes(5).toString('hex')}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'scale-data-'));
let redis: Child;
let apiA: Child;
let apiB: Child;
const workers: Child[] = [];

function env(): Record<string, string> {
  return {
    ...scaledOutEnv({ schema, redisPort: redis.port, adminToken: ADMIN_TOKEN, dataDir }),
    // Short for a test: a killed worker's lock expires in 8 s (kept above what a busy 2-core machine
    // may delay a lock renewal); rows are reconciled every 2 s.
    JOB_LOCK_S: '8',
    JOB_RECONCILE_S: '2',
  };
}

async function gql<T>(api: Child, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

interface JobView {
  id: string;
  state: string;
  stage?: string;
  progress: number;
  attempts: number;
  errorCode?: string;
}
const JOB_FIELDS = 'id state stage progress attempts errorCode';

async function job(api: Child, id: string): Promise<JobView> {
  const res = await gql<{ job: JobView }>(api, `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, { id });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.job;
}

async function finished(api: Child, id: string, timeoutMs = 300_000): Promise<JobView> {
  return waitFor(
    `job ${id}`,
    async () => {
      const j = await job(api, id).catch(() => undefined);
      return j && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.state) ? j : undefined;
    },
    timeoutMs,
  );
}

async function createMeeting(api: Child, file: string, title: string): Promise<{ meetingId: string; jobId: string }> {
  const upload = await uploadFile({ url: api.url, adminToken: ADMIN_TOKEN }, file);
  expect(upload.status).toBe(201);
  const res = await gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
    api,
    'mutation($input: CreateMeetingInput!) { createMeeting(input: $input) { id latestJob { id } } }',
    { input: { uploadId: upload.body.id, title } },
  );
  expect(res.errors).toBeUndefined();
  return { meetingId: res.data!.createMeeting.id, jobId: res.data!.createMeeting.latestJob.id };
}

interface MeetingView {
  speakers: Array<{ id: string; label: string; person: { id: string } | null }>;
  turns: { totalCount: number };
}
async function meeting(api: Child, id: string): Promise<MeetingView> {
  const res = await gql<{ meeting: MeetingView }>(api, 'query($id: ID!) { meeting(id: $id) { speakers { id label person { id } } turns { totalCount } } }', {
    id,
  });
  expect(res.errors).toBeUndefined();
  return res.data!.meeting;
}

async function reprocess(api: Child, meetingIds: string[], kind: 'DIARIZE' | 'IDENTIFY'): Promise<string[]> {
  const res = await gql<{ reprocess: { jobs: Array<{ id: string }> } }>(api, 'mutation($input: ReprocessInput!) { reprocess(input: $input) { jobs { id } } }', {
    input: { meetingIds, kind },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.reprocess.jobs.map((j) => j.id);
}

/** The worker that printed "job <id> ... attempt n started". */
async function workerRunning(jobId: string): Promise<Child> {
  return waitFor(`a worker to start job ${jobId}`, async () => workers.find((w) => w.output().includes(`job ${jobId} (`)), 120_000);
}

beforeAll(async () => {
  ffmpeg(['-i', SAMPLE, '-ss', '21.9', '-to', '27.8', CLIP]);
  ffmpeg(['-stream_loop', '19', '-i', SAMPLE, LONG]);
  redis = await startRedis();
  // The first process migrates; the others start together (migrations under an advisory lock).
  [apiA, apiB] = await Promise.all([startPlatformProcess('api', env()), startPlatformProcess('api', env())]);
  workers.push(...(await Promise.all([startPlatformProcess('worker', env()), startPlatformProcess('worker', env())])));
});

afterAll(async () => {
  await Promise.all([apiA, apiB, ...workers].filter(Boolean).map((c) => c.kill('SIGKILL')));
  await redis?.kill('SIGKILL');
  await dropPostgresSchema(POSTGRES_URL, schema).catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
  media.cleanup();
});

let reference: { speakers: number; turns: number };
/** Speakers and turns of the long recording, undisturbed. */
let longReference: { speakers: number; turns: number } | undefined;

it('two workers drain 20 jobs submitted through two API processes, each exactly once', async () => {
  const created = await Promise.all(Array.from({ length: 20 }, (_, i) => createMeeting(i % 2 ? apiB : apiA, CLIP, `clip ${i}`)));
  const jobs = await Promise.all(created.map((c) => finished(apiA, c.jobId)));
  for (const j of jobs) expect({ state: j.state, attempts: j.attempts }).toEqual({ state: 'SUCCEEDED', attempts: 1 });
  // Each job was started once, by one worker (no duplicates across them).
  for (const c of created) {
    const starts = workers.map((w) => w.output().split(`job ${c.jobId} (`).length - 1);
    expect(starts.reduce((a, b) => a + b, 0)).toBe(1);
  }
  expect(workers.every((w) => /attempt 1 started/.test(w.output()))).toBe(true); // both took work
  const views = await Promise.all(created.map((c) => meeting(apiB, c.meetingId)));
  reference = { speakers: views[0].speakers.length, turns: views[0].turns.totalCount };
  expect(reference.speakers).toBe(1);
  for (const v of views) expect({ speakers: v.speakers.length, turns: v.turns.totalCount }).toEqual(reference);
});

it('a subscription on API B sees the progress of a job started through API A; a cancel through B stops it on its worker', async () => {
  const client = createClient({
    url: `ws://127.0.0.1:${apiB.port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
    retryAttempts: 0,
  });
  const events: Array<{ jobId: string; state: string; progress: number }> = [];
  client.subscribe<{ jobProgress: (typeof events)[number] }>(
    { query: 'subscription { jobProgress { jobId state progress } }' },
    { next: ({ data }) => events.push(data!.jobProgress), error: () => undefined, complete: () => undefined },
  );
  await new Promise((r) => setTimeout(r, 300));
  const { jobId } = await createMeeting(apiA, LONG, 'to cancel');
  await waitFor('progress seen on B', async () => (events.some((e) => e.jobId === jobId && e.state === 'RUNNING' && e.progress > 0) ? true : undefined));
  const worker = await workerRunning(jobId);

  const res = await gql<{ cancelJob: { state: string } }>(apiB, 'mutation($id: ID!) { cancelJob(id: $id) { state } }', { id: jobId });
  expect(res.errors).toBeUndefined();
  expect((await finished(apiB, jobId)).state).toBe('CANCELLED');
  await waitFor('the worker to stop the job', async () =>
    /ABORTED|cancel/i.test(worker.output()) || (await job(apiA, jobId)).state === 'CANCELLED' ? true : undefined,
  );
  await new Promise((r) => setTimeout(r, 3000));
  expect((await job(apiA, jobId)).state).toBe('CANCELLED'); // never SUCCEEDED afterwards
  expect(events.some((e) => e.jobId === jobId && e.state === 'CANCELLED')).toBe(true);
  await client.dispose();
});

it('a worker SIGKILLed mid-diarization: another finishes the job as attempt 2, same result, manual names kept', async () => {
  const { meetingId, jobId } = await createMeeting(apiA, LONG, 'undisturbed');
  expect((await finished(apiA, jobId)).state).toBe('SUCCEEDED');
  const undisturbed = await meeting(apiA, meetingId);
  // What matters here is recovery, not the count: the killed run must end exactly like this one.
  expect(undisturbed.speakers.length).toBeGreaterThanOrEqual(1);
  longReference = { speakers: undisturbed.speakers.length, turns: undisturbed.turns.totalCount };
  const named = undisturbed.speakers[0];
  expect((await gql(apiA, 'mutation($id: ID!) { renameSpeaker(speakerId: $id, name: "Chair") { id } }', { id: named.id })).errors).toBeUndefined();

  const [rerun] = await reprocess(apiB, [meetingId], 'DIARIZE');
  const victim = await workerRunning(rerun);
  await waitFor('the rerun to be in the middle', async () => ((await job(apiA, rerun)).progress > 0.15 ? true : undefined));
  await victim.kill('SIGKILL');
  const done = await finished(apiA, rerun);
  expect({ state: done.state, attempts: done.attempts }).toEqual({ state: 'SUCCEEDED', attempts: 2 });
  const after = await meeting(apiB, meetingId);
  expect(after.speakers.length).toBe(undisturbed.speakers.length);
  expect(after.turns.totalCount).toBe(undisturbed.turns.totalCount);
  const names = await gql<{ meeting: { speakers: Array<{ label: string }> } }>(apiA, 'query($id: ID!) { meeting(id: $id) { speakers { label } } }', {
    id: meetingId,
  });
  expect(names.data!.meeting.speakers.map((s) => s.label)).toContain('Chair');

  workers.splice(workers.indexOf(victim), 1, await startPlatformProcess('worker', env()));
});

it('Redis restarted empty during a batch: every job still succeeds; the API meanwhile answers clearly', async () => {
  const created = await Promise.all(Array.from({ length: 4 }, (_, i) => createMeeting(apiA, CLIP, `redis ${i}`)));
  await redis.kill('SIGKILL');
  // The API keeps answering from PostgreSQL; a new job is accepted and kept QUEUED.
  const during = await createMeeting(apiB, CLIP, 'during the outage');
  expect((await job(apiB, during.jobId)).state).toMatch(/QUEUED|RUNNING/);
  await new Promise((r) => setTimeout(r, 1500));
  redis = await startRedis(redis.port);
  for (const c of [...created, during]) expect((await finished(apiA, c.jobId)).state).toBe('SUCCEEDED');
});

it('voice-index changes through API A reach the workers and API B: enrollment matches, deletePerson stops it within 2 s', async () => {
  const { meetingId, jobId } = await createMeeting(apiA, CLIP, 'identify me');
  expect((await finished(apiA, jobId)).state).toBe('SUCCEEDED');
  // The worker indexed the meeting's speaker; API B's index follows it.
  const probe = await uploadFile({ url: apiB.url, adminToken: ADMIN_TOKEN }, CLIP);
  const found = await gql<{ findSpeaker: Array<{ meeting: { id: string } }> }>(
    apiB,
    'query($u: ID!) { findSpeaker(uploadId: $u, first: 100) { meeting { id } } }',
    {
      u: probe.body.id,
    },
  );
  expect(found.errors).toBeUndefined();
  expect(found.data!.findSpeaker.map((m) => m.meeting.id)).toContain(meetingId);

  const person = await gql<{ createPerson: { id: string } }>(apiA, 'mutation { createPerson(input: { name: "Ninety-one" }) { id } }');
  const personId = person.data!.createPerson.id;
  const clip = await uploadFile({ url: apiA.url, adminToken: ADMIN_TOKEN }, CLIP);
  const enrolled = await gql(apiA, 'mutation($p: ID!, $u: [ID!]!) { enrollFromUploads(personId: $p, uploadIds: $u) { id } }', {
    p: personId,
    u: [clip.body.id],
  });
  expect(enrolled.errors).toBeUndefined();
  await new Promise((r) => setTimeout(r, 2000));
  const [identify] = await reprocess(apiA, [meetingId], 'IDENTIFY');
  expect((await finished(apiA, identify)).state).toBe('SUCCEEDED');
  expect((await meeting(apiB, meetingId)).speakers[0].person?.id).toBe(personId);
  // The enrollment made through A is found by findSpeaker on B, which sends its clips to a worker.
  const byVoice = await gql<{ findSpeaker: Array<{ meeting: { id: string }; speaker: { person: { id: string } | null } }> }>(
    apiB,
    'query($u: ID!) { findSpeaker(uploadId: $u, first: 100) { meeting { id } speaker { person { id } } } }',
    { u: probe.body.id },
  );
  expect(byVoice.errors).toBeUndefined();
  expect(byVoice.data!.findSpeaker.find((m) => m.meeting.id === meetingId)?.speaker.person?.id).toBe(personId);
  const tasks = [...apiB.output().matchAll(/clip task (\S+) \(upload [^)]+\) answered by worker/g)].map((m) => m[1]);
  expect(tasks.length).toBeGreaterThanOrEqual(2);
  for (const task of tasks) expect(workers.some((w) => w.output().includes(`clip task ${task} (upload`))).toBe(true);
  // B never loaded the engine (the workers did).
  const health = (await (await fetch(`${apiB.url}/healthz`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { engine?: string };
  expect(health.engine).toBe('workers');
  for (const api of [apiA, apiB]) expect(api.output()).not.toMatch(/embedding model .*: variant/);
  expect(workers.every((w) => /embedding model .*: variant/.test(w.output()))).toBe(true);

  expect((await gql(apiA, 'mutation($id: ID!) { deletePerson(id: $id) }', { id: personId })).errors).toBeUndefined();
  await new Promise((r) => setTimeout(r, 2000));
  const [again] = await reprocess(apiB, [meetingId], 'IDENTIFY');
  expect((await finished(apiA, again)).state).toBe('SUCCEEDED');
  expect((await meeting(apiA, meetingId)).speakers[0].person).toBeNull();
});

it('a 2-hour clip sent to findSpeaker on B is refused by its probed duration; no worker is asked', async () => {
  const minute = path.join(media.dir, 'minute.ogg');
  const twoHours = path.join(media.dir, 'two-hours.ogg');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=220:sample_rate=16000:duration=60', '-c:a', 'libopus', '-b:a', '6k', minute]);
  ffmpeg(['-stream_loop', '119', '-i', minute, '-c', 'copy', twoHours]);
  const long = await uploadFile({ url: apiB.url, adminToken: ADMIN_TOKEN }, twoHours);
  expect(long.status).toBe(201);
  const res = await gql(apiB, 'query($u: ID!) { findSpeaker(uploadId: $u) { similarity } }', { u: long.body.id });
  expect(res.errors?.[0].extensions?.code).toBe('CLIP_TOO_LONG');
  expect(workers.some((w) => w.output().includes(`upload ${long.body.id!}`))).toBe(false);
});

it('50 concurrent uploads spread over two API processes: every one stored, row and file', async () => {
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => uploadFile({ url: (i % 2 ? apiB : apiA).url, adminToken: ADMIN_TOKEN }, CLIP)));
  expect(results.map((r) => r.status)).toEqual(Array(50).fill(201));
  const ids = results.map((r) => r.body.id!);
  expect(new Set(ids).size).toBe(50);
  const db = new Client({ connectionString: POSTGRES_URL });
  await db.connect();
  try {
    const rows = await db.query<{ id: string; path: string; bytes: string }>(`select id, path, bytes from "${schema}".uploads where id = any($1)`, [ids]);
    expect(rows.rowCount).toBe(50);
    const size = statSync(CLIP).size;
    for (const row of rows.rows) expect(statSync(path.join(dataDir, row.path)).size).toBe(size);
  } finally {
    await db.end();
  }
});

it('PostgreSQL unreachable for 5 s: clear DATABASE_UNAVAILABLE answers, then the job and the API recover', async () => {
  const proxy = await startTcpProxy(Number(new URL(POSTGRES_URL).port || 5432));
  const proxied = new URL(POSTGRES_URL);
  proxied.port = String(proxy.port);
  const viaProxy = { ...env(), DATABASE_URL: `${proxied.toString()}?schema=${schema}` };
  // Only a worker behind the proxy runs jobs now (the others drain and stop).
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  const [apiC, workerC] = await Promise.all([startPlatformProcess('api', viaProxy), startPlatformProcess('worker', viaProxy)]);
  workers.push(workerC);
  try {
    const { meetingId, jobId } = await createMeeting(apiA, LONG, 'through an outage');
    await workerRunning(jobId);
    await waitFor('the job to be under way', async () => ((await job(apiA, jobId)).progress > 0.1 ? true : undefined));
    proxy.down();
    await new Promise((r) => setTimeout(r, 1000));
    const during = await gql<{ job: { state: string } }>(apiC, 'query($id: ID!) { job(id: $id) { state } }', { id: jobId });
    expect(during.errors?.[0].extensions?.code).toBe('DATABASE_UNAVAILABLE');
    expect(JSON.stringify(during.errors)).not.toMatch(/\n\s+at |node_modules/);
    await new Promise((r) => setTimeout(r, 4000));
    proxy.up();

    const done = await finished(apiA, jobId).catch((error: Error) => {
      throw new Error(`${error.message}; the worker behind the proxy printed:\n${workerC.output().slice(-4000)}`);
    });
    expect(done.state).toBe('SUCCEEDED');
    const view = await meeting(apiC, meetingId);
    if (longReference) expect({ speakers: view.speakers.length, turns: view.turns.totalCount }).toEqual(longReference);
  } finally {
    proxy.up();
    await apiC.kill('SIGKILL');
    await proxy.close();
  }
});
