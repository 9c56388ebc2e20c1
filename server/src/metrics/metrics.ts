/**
 * Prometheus metrics (prom-client, owned by this module), served on METRICS_PORT — never on the public
 * API port, by `npm run serve` and by `npm run worker` (where the jobs run). With API_PROCESSES > 1 the
 * cluster primary answers with the sum over its API processes (prom-client's AggregatorRegistry asks
 * each process over node:cluster IPC), except for the gauges read from the database (one value).
 */
import cluster from 'node:cluster';
import http from 'node:http';
import type { RequestHandler } from 'express';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import { AppError } from '../common/errors';

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
// prom-client starts answering the primary's requests (node:cluster IPC) only once an
// AggregatorRegistry exists in the forked process; without one, every scrape of the primary times out.
if (cluster.isWorker) new AggregatorRegistry();

type JobCounts = { byState: Record<string, number>; waiting: number };
let readJobCounts: (() => Promise<JobCounts>) | undefined;
/** One database read per scrape: both gauges below collect from the same answer. */
let reading: Promise<JobCounts> | undefined;
function jobCounts(): Promise<JobCounts> | undefined {
  if (!readJobCounts) return undefined;
  reading ??= readJobCounts().finally(() => {
    reading = undefined;
  });
  return reading;
}

// The two gauges below come from the database, which every process reads alike: across API
// processes the primary takes one process's value ('first'), since the default (sum) would multiply
// them by API_PROCESSES.
export const queueDepth = new Gauge({
  name: 'job_queue_depth',
  help: 'Jobs waiting to run (QUEUED rows in the database)',
  registers: [registry],
  aggregator: 'first',
  async collect() {
    const counts = await jobCounts();
    if (counts) this.set(counts.waiting);
  },
});
export const jobsByState = new Gauge({
  name: 'jobs',
  help: 'Jobs by state (rows in the database)',
  labelNames: ['state'] as const,
  registers: [registry],
  aggregator: 'first',
  async collect() {
    const counts = await jobCounts();
    if (!counts) return;
    this.reset();
    for (const [state, n] of Object.entries(counts.byState)) this.set({ state }, n);
  },
});
export const jobDuration = new Histogram({
  name: 'job_duration_seconds',
  help: 'Run time of the jobs this process ran, by kind and final state',
  labelNames: ['kind', 'state'] as const,
  buckets: [1, 5, 15, 60, 300, 900, 3600, 14400],
  registers: [registry],
});
export const stageDuration = new Histogram({
  name: 'job_stage_duration_seconds',
  help: 'Time per stage of a succeeded job: the time up to each progress report counts for the stage it names',
  labelNames: ['stage'] as const,
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
  registers: [registry],
});
export const realTimeFactor = new Histogram({
  name: 'diarization_real_time_factor',
  help: 'Run time of a succeeded diarize job divided by the recording duration',
  buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
  registers: [registry],
});
export const failuresByCode = new Counter({
  name: 'job_failures_total',
  help: 'Failed jobs by error code',
  labelNames: ['code'] as const,
  registers: [registry],
});

/** A job that reached its final state in this process (jobs/job-service.ts reports them). */
export interface FinishedJobMetrics {
  kind: string;
  state: string;
  /** Run time in this process; absent when no run started here (a job failed for too many attempts). */
  seconds?: number;
  /** Recording duration of a diarization (the real-time factor's denominator). */
  audioSec?: number;
  errorCode?: string;
  /** Seconds spent per stage of the run (observed for succeeded jobs only: a failed run's stages are cut short). */
  stagesSec?: Record<string, number>;
}

/** Records a finished job: its duration, stage times, the real-time factor of a diarization, and the failure code. */
export function recordJobFinished(job: FinishedJobMetrics): void {
  if (job.seconds !== undefined) jobDuration.observe({ kind: job.kind, state: job.state }, job.seconds);
  if (job.state === 'SUCCEEDED') {
    for (const [stage, seconds] of Object.entries(job.stagesSec ?? {})) stageDuration.observe({ stage }, seconds);
    if (job.kind === 'diarize' && job.seconds !== undefined && job.audioSec && job.audioSec > 0) realTimeFactor.observe(job.seconds / job.audioSec);
  }
  if (job.state === 'FAILED') failuresByCode.inc({ code: job.errorCode ?? 'UNKNOWN' });
}

/**
 * Before each scrape: counts by state and the waiting count (from the database, the jobs' truth).
 * Returns the undo (a closed platform's store is not read again).
 */
export function setJobCounts(read: () => Promise<JobCounts>): () => void {
  readJobCounts = read;
  return () => {
    if (readJobCounts === read) readJobCounts = undefined;
  };
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
 * `npm run worker` serves its own registry the same way.
 */
export async function startMetricsServer(port: number, host = '0.0.0.0'): Promise<http.Server> {
  const aggregated = cluster.isPrimary ? new AggregatorRegistry() : undefined;
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
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new AppError(
              'INVALID_ARGUMENT',
              `METRICS_PORT ${port} is already in use on ${host} (another process of this machine serving metrics?). Give each process its own METRICS_PORT.`,
              { cause: error },
            )
          : error,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}
