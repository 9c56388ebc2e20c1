/**
 * bench:server helpers: the platform server in its own Node process (so its RSS is its own), read from
 * /proc; GraphQL over plain HTTP; a streaming multipart upload that never holds the file in memory.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { repoRoot } from '../src/common/paths';
import { wavHeaderMono16 } from './wav';

const ENTRY = { api: 'server/src/app/main.ts', worker: 'server/src/app/worker-main.ts' } as const;
const BANNER = {
  api: /meeting-diarization server on http:\/\/([^/\s]+)\/graphql/,
  worker: /meeting-diarization worker .*\/healthz on http:\/\/([^/\s"]+)/,
} as const;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

export interface BenchServer {
  child: ChildProcess;
  pid: number;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  adminToken: string;
  /** Everything the server printed, for error messages. */
  output(): string;
  /** SIGTERM, then wait for the exit (a --cpu-prof profile is written then). */
  stop(): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  /** Extra environment (MAX_UPLOAD_MB, ENGINE_THREADS, JOB_CONCURRENCY, DATABASE_URL, …). */
  env?: Record<string, string>;
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** With REDIS_URL the token comes from ADMIN_TOKEN (no token file is written): pass it here. */
  adminToken?: string;
  /** `worker` runs `npm run worker`'s entry point (its banner names /healthz instead of /graphql). */
  role?: 'api' | 'worker';
}

/** `node --import tsx server/src/app/main.ts` on a free port; resolves once the banner is printed and /healthz answers. */
export async function startServer(options: StartOptions): Promise<BenchServer> {
  const role = options.role ?? 'api';
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', path.join(repoRoot, ENTRY[role])], {
    cwd: repoRoot,
    // NODE_ENV as `npm run serve` sets it (graphql-js skips its development-only checks).
    env: { ...process.env, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', DATA_DIR: options.dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');

  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`)), START_TIMEOUT_MS);
    const onData = () => {
      const match = BANNER[role].exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(match[1]);
    };
    child.stdout!.on('data', onData);
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${String(signal ?? code)}) before it was ready:\n${output}`));
    });
  });
  const baseUrl = `http://${address}`;
  const health = await fetch(`${baseUrl}/healthz`);
  if (!health.ok) throw new Error(`/healthz answered ${health.status}: ${await health.text()}`);
  const adminToken = options.adminToken ?? readFileSync(path.join(options.dataDir, 'admin-token'), 'utf8').trim();

  return {
    child,
    pid: child.pid!,
    baseUrl,
    adminToken,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// /proc

/** Resident set size of a process in bytes (VmRSS), or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * User + system CPU seconds a process (all its threads) has used so far, from /proc/<pid>/stat in clock
 * ticks of 10 ms; with `children`, plus its children that have exited and been waited for (ffmpeg runs).
 */
export function cpuSeconds(pid: number, options: { children?: boolean } = {}): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: utime, stime, cutime, cstime are fields 14 to 17.
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const CLOCK_TICKS_PER_SEC = 100;
  const ticks = fields[11] + fields[12] + (options.children ? fields[13] + fields[14] : 0);
  return ticks / CLOCK_TICKS_PER_SEC;
}

export interface RssSampler {
  /** Stops sampling; max and median of what was seen. */
  stop(): { peakBytes: number; medianBytes: number; samples: number };
}

/** Reads VmRSS every `intervalMs` until stopped. */
export function sampleRss(pid: number, intervalMs = 20): RssSampler {
  const seen: number[] = [];
  const take = () => {
    const rss = rssBytes(pid);
    if (rss !== undefined) seen.push(rss);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const sorted = [...seen].sort((a, b) => a - b);
      return { peakBytes: sorted[sorted.length - 1] ?? 0, medianBytes: sorted[Math.floor(sorted.length / 2)] ?? 0, samples: sorted.length };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// GraphQL

export interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** One GraphQL request; throws on HTTP or GraphQL errors. */
export async function graphql<T>(server: Pick<BenchServer, 'baseUrl' | 'adminToken'>, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${server.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse<T>;
  if (body.errors?.length || !body.data) {
    throw new Error(
      `GraphQL request failed (HTTP ${response.status}): ${body.errors?.map((e) => `[${e.extensions?.code ?? '?'}] ${e.message}`).join('; ') ?? 'no data'}`,
    );
  }
  return body.data;
}

// ---------------------------------------------------------------------------------------------------------
// Uploads

/** 44-byte header of a 16-bit mono PCM WAV holding `dataBytes` bytes of samples. */
export function wavHeader(dataBytes: number, sampleRate = 16000): Buffer {
  return wavHeaderMono16(dataBytes / 2, sampleRate);
}

const PCM_CHUNK_BYTES = 1 << 20;

/**
 * A WAV of `dataBytes` bytes of samples (a quiet 440 Hz tone), as 1 MiB chunks made on demand: the same
 * buffer is handed out again once the socket has taken it, so memory stays flat whatever the size.
 */
export function* generatedWav(dataBytes: number): Generator<Buffer> {
  if (!Number.isSafeInteger(dataBytes) || dataBytes <= 0 || dataBytes % 2 !== 0 || dataBytes > 0xffffffff - 36) {
    throw new Error(`a 16-bit WAV holds an even number of bytes below 4 GiB; got ${dataBytes}`);
  }
  yield wavHeader(dataBytes);
  const chunk = Buffer.alloc(PCM_CHUNK_BYTES);
  for (let i = 0; i < PCM_CHUNK_BYTES / 2; i++) chunk.writeInt16LE(Math.round(1000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), 2 * i);
  for (let sent = 0; sent < dataBytes; sent += PCM_CHUNK_BYTES) {
    yield dataBytes - sent >= PCM_CHUNK_BYTES ? chunk : chunk.subarray(0, dataBytes - sent);
  }
}

export interface UploadResult {
  id: string;
  bytes: number;
  seconds: number;
}

/**
 * POST /uploads with a multipart body written chunk by chunk (Content-Length known up front), waiting for
 * 'drain' whenever the socket is full.
 */
export async function streamUpload(
  server: Pick<BenchServer, 'baseUrl' | 'adminToken'>,
  file: { name: string; bytes: number; chunks: Iterable<Buffer> | AsyncIterable<Buffer> },
): Promise<UploadResult> {
  const boundary = `----bench${Date.now().toString(16)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL('/uploads', server.baseUrl);
  const started = performance.now();
  const request = http.request(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + file.bytes + tail.length,
    },
  });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
  let early: { status: number; body: string } | undefined;
  answered.then(
    (answer) => (early = answer),
    () => undefined,
  );
  const write = async (chunk: Buffer) => {
    // An answer before the whole body was sent is a refusal (limit, auth): stop sending.
    if (early) throw new Error(`POST /uploads answered ${early.status} before the file was sent: ${early.body}`);
    if (!request.write(chunk)) await Promise.race([once(request, 'drain'), answered]);
  };
  let written = 0;
  await write(head);
  for await (const chunk of file.chunks) {
    await write(chunk);
    written += chunk.length;
  }
  if (written !== file.bytes) throw new Error(`the file gave ${written} bytes, ${file.bytes} were announced`);
  request.end(tail);
  const { status, body } = await answered;
  const seconds = (performance.now() - started) / 1000;
  if (status !== 201) throw new Error(`POST /uploads answered ${status}: ${body}`);
  return { id: (JSON.parse(body) as { id: string }).id, bytes: file.bytes, seconds };
}
