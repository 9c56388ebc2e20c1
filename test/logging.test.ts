/**
 * The server's log as an operator reads it: `npm run serve` on a temporary DATA_DIR (the npm script
 * itself, so jest's NODE_ENV=test reaches it) prints JSON lines on stdout, each request's lines carry
 * its request id (the client's `x-request-id` when sane, answered back), and no token a client sent,
 * in a URL or a header, appears in any line.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Child, startPlatformProcess } from './support/processes';

jest.setTimeout(300_000);

const ADMIN_TOKEN = `logging-admin-${randomBytes(12).toString('hex')}`;
const WRONG_TOKEN = `wrong-token-${randomBytes(8).toString('hex')}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'logging-data-'));
let server: Child;
let stdoutLines: string[];

beforeAll(async () => {
  server = await startPlatformProcess(
    'api',
    // LOG_LEVEL empty: the default level (info), even though NODE_ENV=test reaches the process.
    { DATA_DIR: dataDir, ADMIN_TOKEN, DATABASE_URL: '', REDIS_URL: '', STORAGE_URL: '', LOG_LEVEL: '', ENGINE_THREADS: '1' },
    'npm',
  );
});

afterAll(async () => {
  await server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

const parsed = () => stdoutLines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('npm run serve logs JSON lines', () => {
  let echoed: string | null;
  let generated: string | null;

  beforeAll(async () => {
    // A media URL with the (valid) admin token in the query, as <audio src> sends it, for a meeting that does not exist.
    const media = await fetch(`${server.url}/media/no-such-meeting/audio?token=${ADMIN_TOKEN}`, { headers: { 'x-request-id': 'abc-123' } });
    expect(media.status).toBeGreaterThanOrEqual(400);
    expect(media.status).toBeLessThan(500);
    echoed = media.headers.get('x-request-id');
    // A wrong bearer token, and a request id that is not a sane short string.
    const graphql = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WRONG_TOKEN}`, 'x-request-id': 'not a sane id {"level":"fatal"}' },
      body: JSON.stringify({ query: '{ meetings { totalCount } }' }),
    });
    expect(graphql.status).toBe(401);
    generated = graphql.headers.get('x-request-id');
    const wrongMedia = await fetch(`${server.url}/media/no-such-meeting/peaks?token=${WRONG_TOKEN}`);
    expect(wrongMedia.status).toBe(401);
    // SIGTERM: the server logs its stop and exits. 'close' waits for every process that holds the
    // pipe (npm may exit before the server under it has written its last line).
    const closed = once(server.process, 'close');
    await server.kill('SIGTERM');
    await closed;
    stdoutLines = server
      .stdout()
      .split('\n')
      .filter((line) => line.trim() !== '');
  });

  it('every stdout line is a JSON object with level, time, service, pid and msg', () => {
    expect(stdoutLines.length).toBeGreaterThanOrEqual(4);
    for (const line of parsed()) {
      expect(line).toEqual(expect.objectContaining({ level: expect.any(String), time: expect.any(String), service: 'server', msg: expect.any(String) }));
      expect(typeof line.pid).toBe('number');
    }
    const msgs = parsed().map((l) => String(l.msg));
    expect(msgs.some((m) => /^meeting-diarization server on http:\/\/127\.0\.0\.1:\d+\/graphql/.test(m))).toBe(true);
    expect(msgs).toContain('SIGTERM: stopping (running jobs go back to the queue)');
  });

  it('the request id comes back in x-request-id and is on the request’s line, with the URL token redacted', () => {
    expect(echoed).toBe('abc-123');
    const mine = parsed().filter((l) => l.requestId === 'abc-123');
    expect(mine).toEqual([
      expect.objectContaining({ level: 'info', method: 'GET', url: '/media/no-such-meeting/audio?token=[redacted]', status: expect.any(Number) }),
    ]);
  });

  it('an insane incoming id is replaced by a generated one, which its line carries', () => {
    expect(generated).toMatch(UUID);
    expect(parsed().filter((l) => l.requestId === generated)).toEqual([expect.objectContaining({ url: '/graphql', status: 401 })]);
    expect(stdoutLines.join('\n')).not.toContain('not a sane id');
  });

  it('no line contains a token a client sent', () => {
    const all = server.output();
    expect(all).not.toContain(ADMIN_TOKEN);
    expect(all).not.toContain(WRONG_TOKEN);
    expect(parsed().filter((l) => String(l.url ?? '').includes('token=[redacted]'))).toHaveLength(2);
  });
});
