import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import express from 'express';
import { httpMetrics, recordJobFinished, setJobCounts, startMetricsServer } from './metrics';

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
