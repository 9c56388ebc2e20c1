/**
 * Prometheus metrics scraped over HTTP from real processes. Scaled out (private redis-server,
 * throwaway PostgreSQL schema): a worker (`npm run worker` with METRICS_PORT) shows the jobs it ran —
 * duration by kind and state, failures by code, time per pipeline stage, the real-time factor — and
 * two API processes (`API_PROCESSES=2`) answer through their cluster primary with request counts
 * summed over both and the jobs gauge read once from the database, not once per process. Embedded
 * (`npm run serve` alone, SQLite): the same job series from the one process.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

import { dropPostgresSchema, openStore } from '../server/src/store/database';
import { emptyWavHeader, ffmpeg, tempDir } from './helpers/media';
import { graphqlAt } from './support/browser';
import { POSTGRES_URL, scaledOutEnv, uploadFile, waitFor } from './support/platform';
import { Child, freePort, startPlatformProcess, startRedis } from './support/processes';

jest.setTimeout(300_000);

const SAMPLE = path.resolve(__dirname, '../../shared/data/dev/diarization/pyannote_sample.wav');
const ADMIN_TOKEN = `metrics-admin-${randomBytes(12).toString('hex')}`;
const media = tempDir('metrics-media');
/** 5.9 s of one voice: a cheap job that succeeds. */
const CLIP = path.join(media.dir, 'speaker91.wav');
/** A WAV header without samples: ffprobe accepts the upload, the diarization fails (INVALID_AUDIO). */
const SILENT_HEADER = path.join(media.dir, 'no-samples.wav');

beforeAll(() => {
  ffmpeg(['-i', SAMPLE, '-ss', '21.9', '-to', '27.8', CLIP]);
  writeFileSync(SILENT_HEADER, emptyWavHeader());
});
afterAll(() => media.cleanup());

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

/** The value of one series, e.g. `jobs{state="SUCCEEDED"}` (undefined when absent). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Sum over every series of `name` whose labels include `label` (e.g. `route="/graphql"`). */
function sumOf(text: string, name: string, label: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(label))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function diarize(api: Child, file: string, title: string): Promise<{ state: string; errorCode: string | null }> {
  const upload = await uploadFile({ url: api.url, adminToken: ADMIN_TOKEN }, file);
  expect(upload.status).toBe(201);
  const created = await graphqlAt<{ createMeeting: { latestJob: { id: string } } }>(
    api.port,
    ADMIN_TOKEN,
    'mutation($input: CreateMeetingInput!) { createMeeting(input: $input) { latestJob { id } } }',
    { input: { uploadId: upload.body.id, title } },
  );
  const id = created.createMeeting.latestJob.id;
  return waitFor(
    `job ${id} to finish`,
    async () => {
      const { job } = await graphqlAt<{ job: { state: string; errorCode: string | null } }>(
        api.port,
        ADMIN_TOKEN,
        'query($id: ID!) { job(id: $id) { state errorCode } }',
        {
          id,
        },
      );
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.state) ? job : undefined;
    },
    180_000,
  );
}

/** Runs one diarization that succeeds and one that fails through `api`, then checks the job series at `metricsUrl`. */
async function jobSeriesAfterOneSuccessAndOneFailure(api: Child, metricsUrl: string): Promise<string> {
  expect(await diarize(api, CLIP, 'succeeds')).toEqual({ state: 'SUCCEEDED', errorCode: null });
  expect(await diarize(api, SILENT_HEADER, 'fails')).toEqual({ state: 'FAILED', errorCode: 'INVALID_AUDIO' });
  // The final row is written just before the metrics are: wait for the second job's to appear.
  const text = await waitFor('the failure in the metrics', async () => {
    const t = await scrape(metricsUrl);
    return value(t, 'job_failures_total{code="INVALID_AUDIO"}') === 1 ? t : undefined;
  });
  expect(value(text, 'job_duration_seconds_count{kind="diarize",state="SUCCEEDED"}')).toBe(1);
  expect(value(text, 'job_duration_seconds_count{kind="diarize",state="FAILED"}')).toBe(1);
  expect(value(text, 'diarization_real_time_factor_count')).toBe(1);
  // Seconds of work over 5.9 s of audio: positive and finite.
  expect(value(text, 'diarization_real_time_factor_sum')).toBeGreaterThan(0);
  expect(value(text, 'diarization_real_time_factor_sum')).toBeLessThan(Infinity);
  // The stages the succeeded job's progress went through, one observation each (the failed one adds none);
  // together they make up its run time.
  let staged = 0;
  for (const stage of ['ingest', 'segmentation', 'clustering', 'postprocess', 'storing']) {
    expect({ stage, count: value(text, `job_stage_duration_seconds_count{stage="${stage}"}`) }).toEqual({ stage, count: 1 });
    staged += value(text, `job_stage_duration_seconds_sum{stage="${stage}"}`)!;
  }
  expect(staged).toBeCloseTo(value(text, 'job_duration_seconds_sum{kind="diarize",state="SUCCEEDED"}')!, 3);
  return text;
}

describe('scaled out: a worker and API_PROCESSES=2 on one PostgreSQL schema and a private Redis', () => {
  const schema = `t_metrics_${randomBytes(5).toString('hex')}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metrics-data-'));
  let redis: Child;
  let api: Child;
  let worker: Child;
  let apiMetrics: string;
  let workerMetrics: string;

  beforeAll(async () => {
    redis = await startRedis();
    const [apiMetricsPort, workerMetricsPort] = [await freePort(), await freePort()];
    apiMetrics = `http://127.0.0.1:${apiMetricsPort}/metrics`;
    workerMetrics = `http://127.0.0.1:${workerMetricsPort}/metrics`;
    const env = scaledOutEnv({ schema, redisPort: redis.port, adminToken: ADMIN_TOKEN, dataDir });
    // The API migrates first; the worker then finds the schema ready.
    api = await startPlatformProcess('api', { ...env, API_PROCESSES: '2', METRICS_PORT: String(apiMetricsPort) });
    await waitFor('both API processes to listen', async () => (api.output().match(/meeting-diarization server on/g)?.length === 2 ? true : undefined));
    worker = await startPlatformProcess('worker', { ...env, METRICS_PORT: String(workerMetricsPort) });
  });

  afterAll(async () => {
    await Promise.all([api, worker].filter(Boolean).map((c) => c.kill('SIGKILL')));
    await redis?.kill('SIGKILL');
    await dropPostgresSchema(POSTGRES_URL, schema).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Jobs per state, counted in the database itself. */
  async function databaseCounts(): Promise<Record<string, number>> {
    const db = new Client({ connectionString: POSTGRES_URL });
    await db.connect();
    try {
      const rows = await db.query<{ state: string; n: number }>(`select state, count(*)::int as n from "${schema}".jobs group by state`);
      return Object.fromEntries(rows.rows.map((r) => [r.state, r.n]));
    } finally {
      await db.end();
    }
  }

  /** One GraphQL request on a connection of its own, so that the cluster hands them to both processes. */
  function graphqlOnNewConnection(query: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const body = JSON.stringify({ query });
      const req = http.request(
        `${api.url}/graphql`,
        {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('the worker that ran a succeeded and a failed diarization shows their durations, the failure code, the stage times and one real-time factor', async () => {
    const text = await jobSeriesAfterOneSuccessAndOneFailure(api, workerMetrics);
    // The jobs gauge is the database's count, read at the scrape.
    const counts = await databaseCounts();
    expect(counts).toMatchObject({ SUCCEEDED: 1, FAILED: 1 });
    expect(value(text, 'jobs{state="SUCCEEDED"}')).toBe(counts.SUCCEEDED);
    expect(value(text, 'jobs{state="FAILED"}')).toBe(counts.FAILED);
    expect(value(text, 'job_queue_depth')).toBe(counts.QUEUED ?? 0);
    // API processes never run a job: their answer has no job durations.
    expect(await scrape(apiMetrics)).not.toMatch(/^job_duration_seconds_count\{/m);
  });

  it('with API_PROCESSES=2 the primary sums request counts over both processes and reports the jobs gauge once, as the database says', async () => {
    const K = 24;
    const before = sumOf(await scrape(apiMetrics), 'http_request_duration_seconds_count', 'route="/graphql"');
    const statuses = await Promise.all(Array.from({ length: K }, () => graphqlOnNewConnection('{ __typename }')));
    expect(statuses).toEqual(Array(K).fill(200));

    const text = await scrape(apiMetrics);
    expect(sumOf(text, 'http_request_duration_seconds_count', 'route="/graphql"') - before).toBeGreaterThanOrEqual(K);
    const counts = await databaseCounts();
    // Summed over two processes these would read 2 and 2 (each process reads the same rows).
    expect(value(text, 'jobs{state="SUCCEEDED"}')).toBe(counts.SUCCEEDED);
    expect(value(text, 'jobs{state="FAILED"}')).toBe(counts.FAILED);
    expect(value(text, 'jobs{state="QUEUED"}')).toBe(counts.QUEUED ?? 0);
    expect(value(text, 'job_queue_depth')).toBe(counts.QUEUED ?? 0);
  });
});

describe('embedded: npm run serve alone (SQLite, in-process queue)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metrics-embedded-'));
  let server: Child;
  let metricsUrl: string;

  beforeAll(async () => {
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    server = await startPlatformProcess('api', { DATA_DIR: dataDir, ADMIN_TOKEN, ENGINE_THREADS: '1', METRICS_PORT: String(metricsPort) });
  });

  afterAll(async () => {
    await server?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the one process shows the job series and the jobs gauge of its SQLite file', async () => {
    const text = await jobSeriesAfterOneSuccessAndOneFailure(server, metricsUrl);
    expect(sumOf(text, 'http_request_duration_seconds_count', 'route="/graphql"')).toBeGreaterThan(0);
    // Counted with another query than the gauge's, on the file the server writes (WAL: reading beside it is safe).
    const store = await openStore({ dataDir });
    try {
      for (const state of ['SUCCEEDED', 'FAILED', 'QUEUED'] as const) {
        expect({ state, gauge: value(text, `jobs{state="${state}"}`) }).toEqual({ state, gauge: (await store.jobsInState([state])).length });
      }
    } finally {
      await store.close();
    }
  });
});
