import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, Client } from 'graphql-ws';
import WebSocket from 'ws';

import { Engine } from '../../server/src/diarization/engine';
import { createHttpServer, HttpServer } from '../../server/src/app/http-app';
import { createPlatform, RunningPlatform } from '../../server/src/app/platform';
import { loadServerConfig, ServerConfig } from '../../server/src/config/server-config';
import { dropPostgresSchema } from '../../server/src/store/database';

export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The environment of a scaled-out API or worker process in a test: a throwaway PostgreSQL schema, the
 * test's own Redis copy, one admin token, one shared DATA_DIR, one job at a time on one thread.
 */
export function scaledOutEnv(options: { schema: string; redisPort: number; adminToken: string; dataDir: string }): Record<string, string> {
  return {
    DATABASE_URL: `${POSTGRES_URL}?schema=${options.schema}`,
    REDIS_URL: `redis://127.0.0.1:${options.redisPort}`,
    ADMIN_TOKEN: options.adminToken,
    DATA_DIR: options.dataDir,
    JOB_CONCURRENCY: '1',
    ENGINE_THREADS: '1',
  };
}

export interface TestServer {
  url: string;
  wsUrl: string;
  adminToken: string;
  dataDir: string;
  platform: RunningPlatform;
  http: HttpServer;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }>; status: number }>;
  ws(token?: string): Client;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface TestServerOptions {
  backend: 'sqlite' | 'postgres';
  engine: Engine;
  dataDir?: string;
  /** Same PostgreSQL schema across a restart. */
  pgSchema?: string;
  config?: Partial<ServerConfig>;
  /** Receives the server's log lines (default: dropped). */
  log?: (line: string) => void;
}

/** A real server on 127.0.0.1 with a random port and a temporary DATA_DIR (and PostgreSQL schema). */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'platform-test-'));
  const schema = options.pgSchema ?? `t_${randomBytes(6).toString('hex')}`;
  const databaseUrl = options.backend === 'postgres' ? `${POSTGRES_URL}?schema=${schema}` : undefined;
  const adminToken = 'test-admin-token-' + 'x'.repeat(16);
  const config = loadServerConfig({ DATA_DIR: dataDir, PORT: '0', ADMIN_TOKEN: adminToken }, { databaseUrl, ...options.config });
  const platform = await createPlatform(config, { engine: options.engine, log: options.log ?? (() => undefined) });
  const http = await createHttpServer(platform);
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    adminToken,
    dataDir,
    platform,
    http,
    async gql(query, variables, token = adminToken) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { ...((await res.json()) as object), status: res.status };
    },
    ws(token = adminToken) {
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      });
      clients.push(client);
      return client;
    },
    async stop(stopOptions = {}) {
      for (const c of clients) await c.dispose();
      await http.close();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
      await platform.close();
      if (!stopOptions.keepData) {
        rmSync(dataDir, { recursive: true, force: true });
        if (databaseUrl) await dropPostgresSchema(POSTGRES_URL, schema);
      }
    },
  };
}

/** POST /uploads with a file from disk. */
export async function uploadFile(
  server: Pick<TestServer, 'url' | 'adminToken'>,
  file: string,
  token = server.adminToken,
): Promise<{ status: number; body: { id?: string; error?: { code: string; message: string } } }> {
  const { readFile } = await import('node:fs/promises');
  const form = new FormData();
  form.append('file', new Blob([await readFile(file)]), path.basename(file));
  const res = await fetch(`${server.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as { id?: string; error?: { code: string; message: string } } };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
