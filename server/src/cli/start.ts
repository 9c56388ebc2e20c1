/**
 * `npm start`: the whole platform on the embedded defaults — the API server (SQLite file,
 * in-process queue, files under DATA_DIR) and the web app, which reaches the API through its own
 * same-origin routes. Builds the web app first when the build is missing or older than its sources.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { repoRoot } from '../common/paths';

const webDir = path.join(repoRoot, 'web');
const apiPort = process.env.PORT ?? '4000';
const webPort = process.env.WEB_PORT ?? '3000';
// production: graphql-js and Next skip development-only checks.
const env = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production', NEXT_TELEMETRY_DISABLED: '1' };

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === '.next' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function webBuildIsCurrent(): boolean {
  const buildId = path.join(webDir, '.next', 'BUILD_ID');
  return existsSync(buildId) && statSync(buildId).mtimeMs >= newestMtime(webDir);
}

async function waitForHttp(url: string, child: ChildProcess, what: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} (its output is above).`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs / 1000} s.`);
}

async function main(): Promise<void> {
  if (!webBuildIsCurrent()) {
    console.log('building the web app (once; about a minute)…');
    const build = spawnSync('npm', ['run', '-s', 'build', '-w', 'web'], { cwd: repoRoot, stdio: 'inherit', env });
    if (build.status !== 0) throw new Error('The web app build failed (see above).');
  }
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // `node --import tsx` (as `npm run serve`): no tsx CLI in between to relay (and repeat) stop signals.
  const server = spawn(process.execPath, ['--import', 'tsx', 'server/src/app/main.ts'], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...env, PORT: apiPort, CORS_ORIGINS: process.env.CORS_ORIGINS ?? `http://127.0.0.1:${webPort},http://localhost:${webPort}` },
  });
  children.push(server);
  await waitForHttp(`http://127.0.0.1:${apiPort}/healthz`, server, 'The API server');

  const nextBin = require.resolve('next/dist/bin/next', { paths: [webDir] });
  const web = spawn(process.execPath, [nextBin, 'start', '-p', webPort, '-H', '127.0.0.1'], {
    cwd: webDir,
    stdio: 'inherit',
    env: { ...env, API_PORT: apiPort },
  });
  children.push(web);
  await waitForHttp(`http://127.0.0.1:${webPort}/`, web, 'The web app');

  const dataDir = path.resolve(process.env.DATA_DIR ?? 'data');
  const tokenFile = path.join(dataDir, 'admin-token');
  const relative = path.relative(process.cwd(), tokenFile);
  const token = process.env.ADMIN_TOKEN ? 'the ADMIN_TOKEN environment variable' : relative.startsWith('..') ? tokenFile : relative;
  console.log(
    `\nOpen http://127.0.0.1:${webPort} — paste the admin token from ${token} when asked. API: http://127.0.0.1:${apiPort}/graphql. Ctrl-C stops both.\n`,
  );

  const exited = await Promise.race(children.map((c) => new Promise<ChildProcess>((resolve) => c.once('exit', () => resolve(c)))));
  stop();
  process.exitCode = exited.exitCode ?? 0;
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
