import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { AppError, NotFoundError } from '../common/errors';
import { errorMiddleware, HttpError, notFoundHandler, statusForCode } from './errors';

let server: http.Server;
let base: string;
const logged: string[] = [];

beforeAll(async () => {
  const app = express();
  app.post('/json', express.json(), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/missing', () => {
    throw new NotFoundError('meeting', 'm42');
  });
  app.get('/forbidden', async () => {
    throw new AppError('FORBIDDEN', 'This token lacks the admin scope.');
  });
  app.get('/http-error', () => {
    throw new HttpError(416, 'RANGE_NOT_SATISFIABLE', 'Out of range.');
  });
  app.get('/bug', () => {
    throw new TypeError("Cannot read properties of undefined (reading 'x')");
  });
  app.get('/late', (_req, res) => {
    res.write('partial');
    throw new Error('failed after the headers');
  });
  app.use(notFoundHandler());
  app.use(errorMiddleware((message) => logged.push(message)));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: await res.json() };
}

test('AppError codes map to their statuses with code and message', async () => {
  expect(await get('/missing')).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: expect.stringMatching(/No meeting with id "m42"/) } } });
  expect(await get('/forbidden')).toEqual({ status: 403, body: { error: { code: 'FORBIDDEN', message: 'This token lacks the admin scope.' } } });
  expect(await get('/http-error')).toEqual({ status: 416, body: { error: { code: 'RANGE_NOT_SATISFIABLE', message: 'Out of range.' } } });
});

test('unknown errors are masked as 500 INTERNAL and logged', async () => {
  const before = logged.length;
  const { status, body } = await get('/bug');
  expect(status).toBe(500);
  expect(JSON.stringify(body)).not.toMatch(/Cannot read|TypeError|\.ts/);
  expect((body as { error: { code: string } }).error.code).toBe('INTERNAL');
  expect(logged.slice(before)).toEqual(['GET /bug failed:']);
});

test("a body parser's client error keeps its 4xx status as BAD_REQUEST", async () => {
  const { status, body } = await get('/json', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{not json' });
  expect(status).toBe(400);
  expect((body as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
});

test('an error after the response started cuts the connection instead of sending JSON', async () => {
  await expect(fetch(`${base}/late`).then((res) => res.text())).rejects.toThrow();
});

test('unknown routes: 404 NOT_FOUND naming the route', async () => {
  expect(await get('/nowhere')).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: expect.stringMatching(/No endpoint GET \/nowhere/) } } });
});

test('statuses of a few codes; unknown codes are 500', () => {
  expect([
    statusForCode('INVALID_ARGUMENT'),
    statusForCode('UNAUTHENTICATED'),
    statusForCode('UPLOAD_TOO_LARGE'),
    statusForCode('NOT_AUDIO'),
    statusForCode('WHATEVER'),
  ]).toEqual([400, 401, 413, 415, 500]);
});
