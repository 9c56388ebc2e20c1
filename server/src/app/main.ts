import cluster from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';

import { loadServerConfig } from '../config/server-config';
import { AppError } from '../common/errors';
import { configureLogging, Logger, rootLogger } from '../logging/logger';
import { startMetricsServer } from '../metrics/metrics';
import { createHttpServer } from './http-app';
import { createPlatform } from './platform';
import { onStopSignals } from './shutdown';

/**
 * `npm run serve`: the platform on the embedded defaults (or what the environment says). With
 * REDIS_URL it is an API process only (jobs run in `npm run worker`), and API_PROCESSES=N forks N
 * of them sharing the port (node:cluster).
 */
async function main(): Promise<void> {
  const config = loadServerConfig();
  const log = configureLogging({ service: config.redisUrl ? 'api' : 'server', level: config.logLevel });
  if (config.apiProcesses > 1 && !config.redisUrl)
    throw new AppError('INVALID_ARGUMENT', 'API_PROCESSES > 1 needs REDIS_URL (shared queue and live updates) and a postgres:// DATABASE_URL.');
  // One metrics server per machine: the cluster primary's aggregates its API processes.
  if (config.metricsPort !== undefined && cluster.isPrimary) await startMetricsServer(config.metricsPort, config.host);
  if (config.apiProcesses > 1 && cluster.isPrimary) return runCluster(config.apiProcesses, log);
  const platform = await createPlatform(config);
  const http = await createHttpServer(platform);
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const store = platform.store.kind === 'postgres' ? 'PostgreSQL' : 'SQLite';
  const token = platform.admin.created ? `admin token created in ${platform.admin.source}` : `admin token in ${platform.admin.source}`;
  // Tests and benchmarks wait for this text in the line's msg.
  log.info(
    { port, store: platform.store.kind },
    `meeting-diarization server on http://${config.host}:${port}/graphql · data ${config.dataDir} (${store}) · ${token}`,
  );
  if (platform.recoveredJobs > 0) log.info(`re-queued ${platform.recoveredJobs} unfinished job(s) from the previous run`);

  // Draining: /healthz says so at once while everything keeps serving; after SHUTDOWN_DRAIN_S the
  // port closes, requests in flight finish (SHUTDOWN_GRACE_S at most), then the process exits 0.
  onStopSignals(async (signal) => {
    http.health.markDraining();
    log.info(`${signal}: stopping (running jobs go back to the queue)`);
    await sleep(config.shutdownDrainMs);
    await http.close();
    await platform.close();
    process.exit(0);
  });
}

/**
 * The primary only forks and restarts API processes; each one listens on the shared port. A stop
 * signal goes on to every API process as SIGTERM (the same signal again as well, which makes them exit
 * at once); the primary exits once they all have, 0 when every one exited 0.
 */
function runCluster(count: number, log: Logger): void {
  let stopping = false;
  let failed = 0;
  for (let i = 0; i < count; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      log.error({ exitedPid: worker.process.pid, code }, `API process ${worker.process.pid} exited (code ${code}); starting another`);
      cluster.fork();
      return;
    }
    if (code !== 0) failed++;
    log.info({ exitedPid: worker.process.pid, code, signal }, `API process ${worker.process.pid} exited (${signal ? `signal ${signal}` : `code ${code}`})`);
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed === 0 ? 0 : 1);
  });
  const forward = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  onStopSignals(
    async () => {
      stopping = true;
      forward();
    },
    { beforeExit: forward },
  );
}

main().catch((error: unknown) => {
  // An invalid configuration fails before configureLogging: the process's default logger says why.
  if (error instanceof AppError) rootLogger().fatal({ code: error.code }, `error [${error.code}]: ${error.message}`);
  else rootLogger().fatal({ err: error }, 'the server failed to start');
  process.exit(1);
});
