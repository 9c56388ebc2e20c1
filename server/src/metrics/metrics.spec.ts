import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import express from 'express';
import { AggregatorRegistry } from 'prom-client';

import { httpMetrics, recordJobFinished, registry, setJobCounts, startMetricsServer } from './metrics';

let metricsServer: http.Server;
let api: http.Server;

afterAll(async () => {
  await new Promise((resolve) => metricsServer?.close(resolve));
  await new Promise((resolve) => api?.close(resolve));
});

function urlOf(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('a scrape of the metrics port shows request latency by route, jobs by state, queue depth, failures by code and the real-time factor', async () => {
  const app = express();
  app.use(httpMetrics());
  app.get('/things/:id', (_req, res) => {
    res.json({ ok: true });
  });
  api = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  for (const id of ['a', 'b', 'c']) expect((await fetch(`${urlOf(api)}/things/${id}`)).status).toBe(200);
  expect((await fetch(`${urlOf(api)}/nowhere`)).status).toBe(404);

  setJobCounts(async () => ({ byState: { QUEUED: 4, RUNNING: 1 }, waiting: 4 }));
  recordJobFinished({ kind: 'diarize', state: 'FAILED', seconds: 2, errorCode: 'INVALID_AUDIO' });
  recordJobFinished({ kind: 'diarize', state: 'SUCCEEDED', seconds: 6, audioSec: 60 });

  metricsServer = await startMetricsServer(0, '127.0.0.1');
  const res = await fetch(`${urlOf(metricsServer)}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  // One series per route pattern, not per URL.
  expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/things/:id",status="200"} 3');
  expect(text).toContain('http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1');
  expect(text).toContain('jobs{state="QUEUED"} 4');
  expect(text).toContain('jobs{state="RUNNING"} 1');
  expect(text).toContain('job_queue_depth 4');
  expect(text).toContain('job_failures_total{code="INVALID_AUDIO"} 1');
  expect(text).toContain('diarization_real_time_factor_bucket{le="0.1"} 1');
  expect(text).toContain('diarization_real_time_factor_bucket{le="0.05"} 0');
  expect(text).toContain('job_duration_seconds_count{kind="diarize",state="SUCCEEDED"} 1');
  expect((await fetch(`${urlOf(metricsServer)}/graphql`)).status).toBe(404);
});

test('a finished job records its stage times and real-time factor only when it succeeded, and a failure without a run still counts', async () => {
  recordJobFinished({ kind: 'diarize', state: 'SUCCEEDED', seconds: 3, audioSec: 30, stagesSec: { ingest: 0.2, segmentation: 2, clustering: 0.7 } });
  recordJobFinished({ kind: 'diarize', state: 'FAILED', seconds: 1, audioSec: 30, errorCode: 'INVALID_AUDIO', stagesSec: { ingest: 0.3 } });
  recordJobFinished({ kind: 'identify', state: 'SUCCEEDED', seconds: 0.5, audioSec: 30, stagesSec: { identification: 0.5 } });
  // Failed at its claim (too many attempts): no run here, so no duration, but the failure counts.
  recordJobFinished({ kind: 'diarize', state: 'FAILED', errorCode: 'TOO_MANY_ATTEMPTS' });
  const text = await registry.metrics();
  expect(text).toContain('job_stage_duration_seconds_count{stage="segmentation"} 1');
  expect(text).toContain('job_stage_duration_seconds_sum{stage="segmentation"} 2');
  expect(text).toContain('job_stage_duration_seconds_count{stage="identification"} 1');
  expect(text).toContain('job_stage_duration_seconds_count{stage="ingest"} 1'); // the failed run's ingest is not observed
  // Two diarizations succeeded so far in this file (6 s of 60 s, 3 s of 30 s): the identify job adds none.
  expect(text).toContain('diarization_real_time_factor_count 2');
  expect(text).toContain('job_failures_total{code="INVALID_AUDIO"} 2');
  expect(text).toContain('job_failures_total{code="TOO_MANY_ATTEMPTS"} 1');
  expect(text).toContain('job_duration_seconds_count{kind="diarize",state="FAILED"} 2');
  expect(text).toContain('job_duration_seconds_count{kind="identify",state="SUCCEEDED"} 1');
});

test('across API processes the database gauges are taken once while latency and job counters add up', async () => {
  let reads = 0;
  const stop = setJobCounts(async () => {
    reads++;
    return { byState: { QUEUED: 2, SUCCEEDED: 7 }, waiting: 2 };
  });
  // Two processes answering alike, as AggregatorRegistry would gather them over IPC.
  const snapshots = [await registry.getMetricsAsJSON(), await registry.getMetricsAsJSON()];
  expect(reads).toBe(2); // one database read per scrape, shared by both gauges
  const text = await AggregatorRegistry.aggregate(snapshots).metrics();
  expect(text).toContain('jobs{state="SUCCEEDED"} 7');
  expect(text).toContain('jobs{state="QUEUED"} 2');
  expect(text).toContain('job_queue_depth 2');
  expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/things/:id",status="200"} 6');
  expect(text).toContain('job_duration_seconds_count{kind="diarize",state="SUCCEEDED"} 4');

  stop();
  setJobCounts(async () => ({ byState: { QUEUED: 1 }, waiting: 1 }))();
  // Once its platform closed, nothing reads that store again: the gauges keep their last values.
  await registry.metrics();
  expect(reads).toBe(2);
});

test('a metrics port already taken fails the start with what to change, not a bare EADDRINUSE', async () => {
  const taken = urlOf(metricsServer).split(':').pop();
  const error = await startMetricsServer(Number(taken), '127.0.0.1').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
  expect((error as Error).message).toBe(
    `METRICS_PORT ${taken} is already in use on 127.0.0.1 (another process of this machine serving metrics?). Give each process its own METRICS_PORT.`,
  );
});
