/**
 * Health, draining and clean shutdown of real processes (issue 12 item 8, issue 13 item 7): `npm run
 * serve` on the embedded defaults drains on SIGTERM (/healthz `draining`, an upload being sent still
 * completes, exit 0), a second SIGTERM exits at once; a worker is `unavailable` while its Redis is
 * down and drains its running job; the cluster primary of API_PROCESSES=2 exits 0 after its children.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { wavHeader } from '../server/bench/server-process';
import { dropPostgresSchema } from '../server/src/store/database';
import { ffmpeg, tempDir } from './helpers/media';
import { POSTGRES_URL, scaledOutEnv, uploadFile, waitFor } from './support/platform';
import { Child, childPids, isRunning, startPlatformProcess, startRedis } from './support/processes';

jest.setTimeout(300_000);

const SAMPLE = path.resolve(__dirname, '../../shared/data/dev/diarization/pyannote_sample.wav');
const media = tempDir('lifecycle-media');
/** The 30 s sample four times over: a job that is still running when the worker is told to stop. */
const LONG = path.join(media.dir, 'sample-x4.wav');

afterAll(() => media.cleanup());

async function healthz(url: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/healthz`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function gql<T>(url: string, token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

/** How the process exited, or 'still running' after `ms`. */
async function exitWithin(child: Child, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([child.exited(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Child processes of `pid` running main.ts (the cluster's API processes; esbuild helpers are left out). */
function serverChildren(pid: number): number[] {
  return childPids(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('main.ts');
    } catch {
      return false;
    }
  });
}

/** A refused connection: the listener is closed. */
async function refuses(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`);
    return false;
  } catch {
    return true;
  }
}

/**
 * POST /uploads of a WAV of `dataBytes` bytes, sent in two halves: `sendRest()` sends the second one.
 * `answer` settles with the server's answer (or the connection's error).
 */
function halfSentUpload(url: string, token: string, dataBytes: number) {
  const boundary = 'lifecycleboundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const samples = Buffer.alloc(dataBytes);
  for (let i = 0; i < dataBytes / 2; i++) samples.writeInt16LE(Math.round(1000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), 2 * i);
  const file = Buffer.concat([wavHeader(dataBytes), samples]);
  const { port } = new URL(url);
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/uploads',
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + file.length + tail.length,
    },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => (body += text));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  const half = Math.floor(file.length / 2);
  req.write(head);
  req.write(file.subarray(0, half));
  return { answer, fileBytes: file.length, sendRest: () => req.end(Buffer.concat([file.subarray(half), tail])) };
}

describe('npm run serve (embedded defaults)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifecycle-embedded-'));
  let server: Child | undefined;
  const uploadsDir = path.join(dataDir, 'uploads');
  const partialUploads = () => (existsSync(uploadsDir) ? readdirSync(uploadsDir) : []);

  afterAll(async () => {
    await server?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers /healthz with details only for a valid token', async () => {
    // Through npm, as the Dockerfile runs it: npm must hand the signal on and wait.
    server = await startPlatformProcess('api', { DATA_DIR: dataDir, ENGINE_THREADS: '1', SHUTDOWN_DRAIN_S: '2' }, 'npm');
    const admin = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    const created = await gql<{ createToken: { secret: string } }>(server.url, admin, 'mutation { createToken(name: "monitor", scope: READ) { secret } }');
    const read = created.createToken.secret;

    expect(await healthz(server.url)).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await fetch(`${server.url}/healthz`)).headers.get('connection')).toBe('keep-alive');
    expect(await healthz(server.url, 'mdp_not-a-token')).toEqual({ status: 200, body: { status: 'ok' } });
    for (const token of [read, admin]) {
      const { status, body } = await healthz(server.url, token);
      expect(status).toBe(200);
      expect(body).toMatchObject({ status: 'ok', ok: true, database: 'ok', engine: 'in-process', queue: { queued: 0, running: 0 } });
      expect(body.model).toMatchObject({ name: expect.any(String), hash: expect.any(String) });
      expect(body.redis).toBeUndefined();
    }
  });

  it('drains on SIGTERM: /healthz says draining, a half-sent upload completes, the port closes, exit 0', async () => {
    const admin = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    const upload = halfSentUpload(server!.url, admin, 3 * 32_000);
    // The server is streaming the first half to disk …
    await waitFor('the partial upload on disk', async () => (partialUploads().length > 0 ? true : undefined), 20_000);
    // … when the stop signal comes, to npm alone (as `docker stop` sends it to a container's first process).
    process.kill(server!.process.pid!, 'SIGTERM');
    await server!.waitForLine(/SIGTERM: stopping/, 10_000);

    const draining = await fetch(`${server!.url}/healthz`);
    expect(draining.status).toBe(503);
    expect(await draining.text()).toBe(JSON.stringify({ status: 'draining' }));
    // Keep-alive clients are told to reconnect (elsewhere).
    expect(draining.headers.get('connection')).toBe('close');
    const detailed = await healthz(server!.url, admin);
    expect(detailed.status).toBe(503);
    expect(detailed.body).toMatchObject({ status: 'draining', ok: false, database: 'ok' });

    // After SHUTDOWN_DRAIN_S the port closes while the upload is still open …
    await waitFor('the port to close', async () => ((await refuses(server!.url)) ? true : undefined), 20_000);
    expect(server!.process.exitCode).toBeNull();
    // … and the rest of it still arrives and gets the usual answer.
    upload.sendRest();
    const answer = await upload.answer;
    expect(answer.status).toBe(201);
    const { id } = JSON.parse(answer.body) as { id: string };
    expect(JSON.parse(answer.body)).toEqual({ id: expect.any(String) });
    expect(statSync(path.join(uploadsDir, id, 'original.wav')).size).toBe(upload.fileBytes);

    const exit = await exitWithin(server!, 15_000);
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('exits at once on a second SIGTERM, without waiting for the drain', async () => {
    server = await startPlatformProcess('api', { DATA_DIR: dataDir, ENGINE_THREADS: '1', SHUTDOWN_DRAIN_S: '120' });
    const admin = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    const before = new Set(partialUploads());
    const upload = halfSentUpload(server.url, admin, 3 * 32_000);
    await waitFor('the partial upload on disk', async () => (partialUploads().some((u) => !before.has(u)) ? true : undefined), 20_000);
    process.kill(-server.process.pid!, 'SIGTERM');
    await server.waitForLine(/SIGTERM: stopping/, 10_000);
    expect((await healthz(server.url)).body).toEqual({ status: 'draining' });
    // A repeat within a second counts as the same signal relayed twice: the drain goes on.
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(-server.process.pid!, 'SIGTERM');
    const exit = await exitWithin(server, 15_000);
    expect(exit).toEqual({ code: 128 + os.constants.signals.SIGTERM, signal: null });
    expect(server.output()).toMatch(/SIGTERM again: exiting now/);
    // The upload was cut (its partial file is swept at the next start).
    await expect(upload.answer).rejects.toThrow();
  });
});

describe('scale-out: worker and API_PROCESSES=2 on a private Redis', () => {
  const adminToken = `lifecycle-admin-${randomBytes(12).toString('hex')}`;
  const schema = `t_life_${randomBytes(5).toString('hex')}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifecycle-scale-'));
  let redis: Child;
  let api: Child;
  let worker: Child;
  const env = () => ({
    ...scaledOutEnv({ schema, redisPort: redis.port, adminToken, dataDir }),
    // A job the API could not queue while Redis was away is queued again within 2 s.
    JOB_RECONCILE_S: '2',
  });

  beforeAll(async () => {
    ffmpeg(['-i', SAMPLE, '-i', SAMPLE, '-i', SAMPLE, '-i', SAMPLE, '-filter_complex', '[0:a][1:a][2:a][3:a]concat=n=4:v=0:a=1', LONG]);
    redis = await startRedis();
    // The worker migrates the fresh schema first; the API processes then find it ready.
    worker = await startPlatformProcess('worker', env());
    api = await startPlatformProcess('api', { ...env(), API_PROCESSES: '2' });
  });

  afterAll(async () => {
    await Promise.all([api, worker].filter(Boolean).map((c) => c.kill('SIGKILL')));
    await redis?.kill('SIGKILL');
    await dropPostgresSchema(POSTGRES_URL, schema).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a worker is unavailable while its Redis is down and ok once it is back', async () => {
    expect(await healthz(worker.url)).toEqual({ status: 200, body: { status: 'ok' } });
    const details = await healthz(worker.url, adminToken);
    expect(details.body).toMatchObject({ status: 'ok', database: 'ok', redis: 'ok', engine: 'in-process' });

    const port = redis.port;
    await redis.kill('SIGKILL');
    await waitFor('the worker to say unavailable', async () => ((await healthz(worker.url)).status === 503 ? true : undefined), 20_000);
    expect(await healthz(worker.url)).toEqual({ status: 503, body: { status: 'unavailable' } });
    expect((await healthz(worker.url, adminToken)).body).toMatchObject({ status: 'unavailable', database: 'ok', redis: 'unreachable' });
    // An API process without Redis still serves reads: it stays ok, and its details say what is down.
    expect((await healthz(api.url, adminToken)).body).toMatchObject({ status: 'ok', redis: 'unreachable', engine: 'workers' });

    redis = await startRedis(port);
    await waitFor('the worker to say ok again', async () => ((await healthz(worker.url)).status === 200 ? true : undefined), 30_000);
    expect(await healthz(worker.url)).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('a worker drains on SIGTERM: /healthz says draining, the running job finishes, exit 0', async () => {
    const upload = await uploadFile({ url: api.url, adminToken }, LONG);
    expect(upload.status).toBe(201);
    const created = await gql<{ createMeeting: { latestJob: { id: string } } }>(
      api.url,
      adminToken,
      'mutation($input: CreateMeetingInput!) { createMeeting(input: $input) { latestJob { id } } }',
      { input: { uploadId: upload.body.id, title: 'drained' } },
    );
    const jobId = created.createMeeting.latestJob.id;
    await worker.waitForLine(new RegExp(`job ${jobId} \\(`), 60_000);

    process.kill(-worker.process.pid!, 'SIGTERM');
    await worker.waitForLine(/SIGTERM: draining/, 10_000);
    expect(await healthz(worker.url)).toEqual({ status: 503, body: { status: 'draining' } });
    expect((await healthz(worker.url, adminToken)).body).toMatchObject({ status: 'draining', queue: { running: 1 } });

    const exit = await exitWithin(worker, 180_000);
    expect(exit).toEqual({ code: 0, signal: null });
    const job = await gql<{ job: { state: string; attempts: number } }>(api.url, adminToken, 'query($id: ID!) { job(id: $id) { state attempts } }', {
      id: jobId,
    });
    expect(job.job).toEqual({ state: 'SUCCEEDED', attempts: 1 });
  });

  it('SIGTERM to the cluster primary stops every API process, then the primary, all with code 0', async () => {
    const primary = api.process.pid!;
    const children = serverChildren(primary);
    expect(children).toHaveLength(2);
    expect((await healthz(api.url)).status).toBe(200);

    // Only the primary is signalled: it must pass the signal on itself.
    process.kill(primary, 'SIGTERM');
    const exit = await exitWithin(api, 60_000);
    expect(exit).toEqual({ code: 0, signal: null });
    for (const pid of children) {
      expect(api.output()).toContain(`API process ${pid} exited (code 0)`);
      expect(isRunning(pid)).toBe(false);
    }
    expect(api.output()).not.toMatch(/starting another/);
    expect(await refuses(api.url)).toBe(true);
  });
});
