/**
 * Real processes for scale-out tests: a private redis-server on a free port, and API and worker
 * processes of this repository started the way `npm run serve` / `npm run worker` start them.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Child {
  process: ChildProcess;
  port: number;
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** What it printed on stdout alone. */
  stdout(): string;
  /** Resolves with the first output line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves once it has exited, with its exit code (null when a signal ended it). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The pids of a process's children (Linux /proc); empty once it is gone. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether a process with this pid still exists (a zombie not yet waited for counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function watch(child: ChildProcess, port: number): Child {
  let text = '';
  let stdout = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
  return {
    process: child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => text,
    stdout: () => stdout,
    waitForLine(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in:\n${text.slice(-3000)}`)), timeoutMs);
        const check = () => {
          const match = pattern.exec(text);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`process exited (${child.exitCode}) before printing ${pattern}:\n${text.slice(-3000)}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      // The whole process group: ffmpeg runs and API processes of a cluster go too.
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, signal);
      await exited;
    },
    exited: () => exited,
  };
}

/** A redis-server that keeps nothing on disk (what the shared one does too), on `port`. */
export async function startRedis(port?: number): Promise<Child> {
  const p = port ?? (await freePort());
  const child = watch(
    spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'pipe', detached: true }),
    p,
  );
  await child.waitForLine(/Ready to accept connections/, 20_000);
  return child;
}

/**
 * `npm run serve` (kind api) or `npm run worker`, with `env` on top of this process's environment.
 * `launcher: 'node'` (default) runs the script's command itself (the pid is the server's own); `npm`
 * goes through `npm run` (the pid is npm's, as when `docker stop` signals a container's npm).
 */
export async function startPlatformProcess(kind: 'api' | 'worker', env: Record<string, string>, launcher: 'node' | 'npm' = 'node'): Promise<Child> {
  const port = await freePort();
  const script = kind === 'api' ? 'server/src/app/main.ts' : 'server/src/app/worker-main.ts';
  const [command, args] = launcher === 'npm' ? ['npm', ['run', '-s', kind === 'api' ? 'serve' : 'worker']] : [process.execPath, ['--import', 'tsx', script]];
  const child = watch(
    spawn(command, args, {
      cwd: repoRoot,
      stdio: 'pipe',
      detached: true,
      env: { ...process.env, ...(launcher === 'npm' ? {} : { NODE_ENV: 'production' }), HOST: '127.0.0.1', PORT: String(port), ...env },
    }),
    port,
  );
  await child.waitForLine(kind === 'api' ? /meeting-diarization server on/ : /meeting-diarization worker/, 180_000);
  return child;
}

/** A TCP proxy the test can cut: while down it drops every connection and refuses new ones. */
export interface TcpProxy {
  port: number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const { connect } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  let isUp = true;
  const server = createServer((client) => {
    if (!isUp) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );
  return {
    port,
    down() {
      isUp = false;
      for (const s of sockets) s.destroy();
    },
    up() {
      isUp = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
