/**
 * `npm run worker`: a job worker for the scaled-out platform (REDIS_URL, PostgreSQL). Loads the
 * models once, runs JOB_CONCURRENCY jobs at a time from the shared BullMQ queue, answers /healthz
 * on PORT (`unavailable` while the database or Redis is away, `draining` once stopping; details with a
 * token), and drains on SIGTERM: it takes no new job, lets the running ones finish, then exits 0.
 */
import 'reflect-metadata'; // before anything that loads type-graphql types (the platform does)
import { createServer } from 'node:http';

import { AppError } from '../common/errors';
import { loadServerConfig } from '../config/server-config';
import { configureLogging, rootLogger } from '../logging/logger';
import { startMetricsServer } from '../metrics/metrics';
import { createHealth } from './health';
import { createPlatform } from './platform';
import { onStopSignals } from './shutdown';

async function main(): Promise<void> {
  const config = loadServerConfig();
  const log = configureLogging({ service: 'worker', level: config.logLevel });
  if (!config.redisUrl)
    throw new AppError('INVALID_ARGUMENT', 'npm run worker needs REDIS_URL (the shared job queue); without it, `npm run serve` runs jobs itself.');
  // Jobs run here, so their metrics are served here (before any job is taken: a busy port stops the start).
  if (config.metricsPort !== undefined) await startMetricsServer(config.metricsPort, config.host);
  const platform = await createPlatform(config, { role: 'worker' });
  const health = createHealth(platform, { role: 'worker' });
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://worker').pathname !== '/healthz') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Only GET /healthz is served by a worker.' } }));
      return;
    }
    health.answer(req.headers.authorization).then(
      ({ httpStatus, body }) => res.writeHead(httpStatus, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      () => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unavailable' })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // Tests and benchmarks wait for this text in the line's msg.
  log.info({ port }, `meeting-diarization worker · ${config.jobConcurrency} job(s) at a time · /healthz on http://${config.host}:${port}`);
  if (platform.recoveredJobs > 0) log.info(`re-queued ${platform.recoveredJobs} job(s) the queue no longer held`);

  // /healthz keeps answering `draining` until the running jobs are done.
  onStopSignals(async (signal) => {
    health.markDraining();
    log.info(`${signal}: draining (running jobs finish, no new ones start)`);
    await platform.close();
    server.close();
    process.exit(0);
  });
}

main().catch((error: unknown) => {
  // An invalid configuration fails before configureLogging: the process's default logger says why.
  if (error instanceof AppError) rootLogger().fatal({ code: error.code }, `error [${error.code}]: ${error.message}`);
  else rootLogger().fatal({ err: error }, 'the worker failed to start');
  process.exit(1);
});
