/**
 * Prometheus metrics (prom-client, owned by this module), served on METRICS_PORT — never on the public
 * API port. With API_PROCESSES > 1 the cluster primary answers with the sum over its API processes
 * (prom-client's AggregatorRegistry asks each process over node:cluster IPC).
 */
import cluster from 'node:cluster';
import http from 'node:http';
import type { RequestHandler } from 'express';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'API request latency by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers: [registry],
});
// A forked API process answers the primary's aggregation from this registry, not prom-client's global one.
AggregatorRegistry.setRegistries([registry]);

let readJobCounts: (() => Promise<{ byState: Record<string, number>; waiting: number }>) | undefined;
export const queueDepth = new Gauge({
  name: 'job_queue_depth',
  help: 'Jobs waiting to run',
  registers: [registry],
  async collect() {
    if (readJobCounts) this.set((await readJobCounts()).waiting);
  },
});
export const jobsByState = new Gauge({
  name: 'jobs',
  help: 'Jobs by state',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    if (!readJobCounts) return;
    const { byState } = await readJobCounts();
    this.reset();
    for (const [state, n] of Object.entries(byState)) this.set({ state }, n);
  },
});
export const jobDuration = new Histogram({
  name: 'job_duration_seconds',
  help: 'Job run time by kind and final state',
  labelNames: ['kind', 'state'] as const,
  buckets: [1, 5, 15, 60, 300, 900, 3600, 14400],
  registers: [registry],
});
export const stageDuration = new Histogram({
  name: 'job_stage_duration_seconds',
  help: 'Time spent in each pipeline stage',
  labelNames: ['stage'] as const,
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
  registers: [registry],
});
export const realTimeFactor = new Histogram({
  name: 'diarization_real_time_factor',
  help: 'Processing time divided by audio duration',
  buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
  registers: [registry],
});
export const failuresByCode = new Counter({
  name: 'job_failures_total',
  help: 'Failed jobs by error code',
  labelNames: ['code'] as const,
  registers: [registry],
});

/** Records a finished job: its duration, the real-time factor of a diarization, and the failure code. */
export function recordJobFinished(job: { kind: string; state: string; seconds: number; audioSec?: number; errorCode?: string }): void {
  jobDuration.observe({ kind: job.kind, state: job.state }, job.seconds);
  if (job.audioSec && job.audioSec > 0 && job.state === 'SUCCEEDED') realTimeFactor.observe(job.seconds / job.audioSec);
  if (job.state === 'FAILED') failuresByCode.inc({ code: job.errorCode ?? 'UNKNOWN' });
}

/** Before each scrape: counts by state and the waiting count (from the database, the jobs' truth). */
export function setJobCounts(read: () => Promise<{ byState: Record<string, number>; waiting: number }>): void {
  readJobCounts = read;
}

/** Express middleware timing each request; the route pattern (not the URL) keeps label values few. */
export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    const end = httpDuration.startTimer();
    res.once('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || (res.statusCode === 404 ? 'unmatched' : req.path);
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

/**
 * Serves GET /metrics on `port`. In a cluster primary the answer aggregates every API process
 * (call this in the primary before forking; each forked process needs no metrics server of its own).
 */
export async function startMetricsServer(port: number, host = '0.0.0.0'): Promise<http.Server> {
  const aggregated = cluster.isPrimary && process.env.METRICS_AGGREGATE !== '0' ? new AggregatorRegistry() : undefined;
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Metrics are at /metrics.\n');
      return;
    }
    const workers = Object.keys(cluster.workers ?? {}).length;
    const body = aggregated && workers > 0 ? aggregated.clusterMetrics() : registry.metrics();
    body.then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics could not be collected; see the server log.\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
