// Helpers for the browser tests: the real server and the built web app as child processes on
// 127.0.0.1 with free ports, and Debian's chromium driven by playwright-core.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
export const WEB_DIR = path.join(ROOT, 'web');
export const ARTIFACTS = path.join(ROOT, 'test/artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// From ../shared/ENVIRONMENT.md: Debian's chromium, no downloads, no sandbox in containers.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
  '--mute-audio',
];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Builds the web app once when no build is there (CI builds it before the tests). */
export function ensureWebBuild(): void {
  if (existsSync(path.join(WEB_DIR, '.next/BUILD_ID'))) return;
  const res = spawnSync(process.execPath, [require.resolve('next/dist/bin/next', { paths: [WEB_DIR] }), 'build'], {
    cwd: WEB_DIR,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (res.status !== 0) throw new Error(`next build failed (status ${res.status}):\n${res.stdout}\n${res.stderr}`);
}

export interface Child {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

function startChild(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Child {
  const proc = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    output: () => log,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 2xx, the child exits, or the time runs out. */
export async function waitForHttp(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`${url}: process exited with ${child.proc.exitCode}:\n${child.output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}: ${await res.text()}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last}):\n${child.output()}`);
}

export interface ServerOptions {
  port: number;
  dataDir: string;
  adminToken: string;
  /** The web app's origin, for CORS and the WebSocket origin check. */
  webOrigin: string;
}

/** The GraphQL server (`server/src/app/main.ts`) in its own process, on the embedded defaults. */
export async function startServer(options: ServerOptions): Promise<Child> {
  const main = path.join(ROOT, 'server/src/app/main.ts');
  if (!existsSync(main)) throw new Error(`${main} is missing: the server entry point is needed by the browser tests.`);
  const child = startChild(path.join(ROOT, 'node_modules/.bin/tsx'), [main], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(options.port),
      DATA_DIR: options.dataDir,
      ADMIN_TOKEN: options.adminToken,
      CORS_ORIGINS: options.webOrigin,
      DATABASE_URL: '',
    },
  });
  await waitForHttp(`http://127.0.0.1:${options.port}/healthz`, child, 180_000);
  return child;
}

/** `next start` for the built web app, proxying to the server on `apiPort`. */
export async function startWeb(options: { port: number; apiPort: number }): Promise<Child> {
  const next = require.resolve('next/dist/bin/next', { paths: [WEB_DIR] });
  const child = startChild(process.execPath, [next, 'start', '-p', String(options.port), '-H', '127.0.0.1'], {
    cwd: WEB_DIR,
    env: { ...process.env, API_PORT: String(options.apiPort), NEXT_TELEMETRY_DISABLED: '1', PORT: '' },
  });
  await waitForHttp(`http://127.0.0.1:${options.port}/api/config`, child, 60_000);
  return child;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** The GraphQL server, the built web app and Chromium, on free 127.0.0.1 ports with a temporary DATA_DIR. */
export interface Stack {
  /** Temporary folder of the test (the server's DATA_DIR is `server/` inside it). */
  dataDir: string;
  apiPort: number;
  webUrl: string;
  browser: Browser;
  stop(): Promise<void>;
}

export async function startStack(options: {
  prefix: string;
  adminToken: string;
  /** Runs once the API answers, before the web app starts (e.g. to seed the store). */
  beforeWeb?: (server: { dataDir: string; apiPort: number }) => Promise<void>;
}): Promise<Stack> {
  ensureWebBuild();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `${options.prefix}-`));
  const children: Child[] = [];
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    for (const child of children.reverse()) await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const apiPort = await freePort();
    const webPort = await freePort();
    const webUrl = `http://127.0.0.1:${webPort}`;
    const serverDir = path.join(dataDir, 'server');
    children.push(await startServer({ port: apiPort, dataDir: serverDir, adminToken: options.adminToken, webOrigin: webUrl }));
    await options.beforeWeb?.({ dataDir: serverDir, apiPort });
    children.push(await startWeb({ port: webPort, apiPort }));
    browser = await launchBrowser();
    return { dataDir, apiPort, webUrl, browser, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One GraphQL request to the API on `apiPort`; GraphQL errors become a thrown Error (tests set data up with it). */
export async function graphqlAt<T>(apiPort: number, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data as T;
}
