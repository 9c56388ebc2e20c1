import { loadServerConfig } from '../config/server-config';
import { AppError } from '../common/errors';
import { createHttpServer } from './http-app';
import { createPlatform } from './platform';

/** `npm run serve`: the platform on the embedded defaults (or what the environment says). */
async function main(): Promise<void> {
  const config = loadServerConfig();
  const platform = await createPlatform(config);
  const http = await createHttpServer(platform);
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const store = platform.store.kind === 'postgres' ? 'PostgreSQL' : 'SQLite';
  const token = platform.admin.created ? `admin token created in ${platform.admin.source}` : `admin token in ${platform.admin.source}`;
  console.log(`meeting-diarization server on http://${config.host}:${port}/graphql · data ${config.dataDir} (${store}) · ${token}`);
  if (platform.recoveredJobs > 0) console.log(`re-queued ${platform.recoveredJobs} unfinished job(s) from the previous run`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (running jobs go back to the queue)`);
    await http.close();
    await platform.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof AppError) console.error(`error [${error.code}]: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
