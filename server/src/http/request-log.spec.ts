import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

import { configureLogging, logLine } from '../logging/logger';
import { errorMiddleware } from './errors';
import { requestIdFrom, requestLogging } from './request-log';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const raw: string[] = [];
const lines = () => raw.map((chunk) => JSON.parse(chunk) as Record<string, unknown>);
let server: http.Server;
let base: string;

beforeAll(async () => {
  configureLogging({ service: 'api', level: 'info', destination: { write: (chunk: string) => void raw.push(chunk) } });
  const log = logLine();
  const app = express();
  app.use(requestLogging());
  app.get('/ok', (_req, res) => {
    log('handling /ok');
    res.json({ ok: true });
  });
  app.post('/json', express.json({ limit: '1mb' }), (_req, res) => {
    log('after the body parser');
    res.json({ ok: true });
  });
  app.get('/bug', (_req, _res, next) => {
    // An error raised later, from a callback (as streams raise theirs).
    setTimeout(() => next(new TypeError('Bearer s3cr3t-token was not expected here')), 1);
  });
  app.get('/media/:id', (_req, res) => {
    res.status(404).json({ error: { code: 'MEDIA_NOT_READY', message: 'Not yet.' } });
  });
  app.use(errorMiddleware());
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  raw.length = 0;
});

/** The finish line is written on 'finish', which may come just after the client has the answer. */
async function settled(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('requestIdFrom', () => {
  it('keeps a sane short id and replaces anything else with a UUID', () => {
    expect(requestIdFrom('abc-123')).toBe('abc-123');
    expect(requestIdFrom('trace_01:web.api@2')).toBe('trace_01:web.api@2');
    expect(requestIdFrom(undefined)).toMatch(UUID);
    expect(requestIdFrom('')).toMatch(UUID);
    expect(requestIdFrom('x'.repeat(65))).toMatch(UUID);
    expect(requestIdFrom('abc 123')).toMatch(UUID);
    expect(requestIdFrom('abc\r\nset-cookie: x')).toMatch(UUID);
    expect(requestIdFrom('{"level":"fatal"}')).toMatch(UUID);
    expect(requestIdFrom(['a', 'b'])).toMatch(UUID);
  });
});

describe('requestLogging', () => {
  it('answers the incoming x-request-id and puts it on the lines logged while the request runs', async () => {
    const res = await fetch(`${base}/ok`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    await settled();
    expect(lines()).toEqual([expect.objectContaining({ msg: 'handling /ok', requestId: 'abc-123', service: 'api' })]);
  });

  it('generates an id when the incoming one is not sane, and keeps it after the body parser', async () => {
    const res = await fetch(`${base}/json`, {
      method: 'POST',
      headers: { 'x-request-id': 'no spaces allowed', 'content-type': 'application/json' },
      body: JSON.stringify({ big: 'x'.repeat(200_000) }),
    });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    await settled();
    expect(lines()).toEqual([expect.objectContaining({ msg: 'after the body parser', requestId: id })]);
  });

  it('logs a 5xx at error with its requestId, the error redacted, and a 4xx at info with the token redacted from the URL', async () => {
    const bug = await fetch(`${base}/bug`, { headers: { 'x-request-id': 'req-500' } });
    expect(bug.status).toBe(500);
    const missing = await fetch(`${base}/media/m1?token=s3cr3t-token`, { headers: { 'x-request-id': 'req-404' } });
    expect(missing.status).toBe(404);
    await settled();
    expect(raw.join('')).not.toContain('s3cr3t-token');
    const byRequest = (id: string) => lines().filter((l) => l.requestId === id);
    expect(byRequest('req-500')).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'GET /bug failed:',
        err: expect.objectContaining({ message: 'Bearer [redacted] was not expected here' }),
      }),
      expect.objectContaining({ level: 'error', method: 'GET', url: '/bug', status: 500, msg: 'GET /bug 500' }),
    ]);
    expect(byRequest('req-404')).toEqual([
      expect.objectContaining({ level: 'info', url: '/media/m1?token=[redacted]', status: 404, durationMs: expect.any(Number) }),
    ]);
  });

  it('writes no line for a successful request at info', async () => {
    await fetch(`${base}/ok`);
    await settled();
    expect(lines().filter((l) => l.status !== undefined)).toEqual([]);
  });
});
