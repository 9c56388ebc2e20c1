import { setTimeout as sleep } from 'node:timers/promises';

import { configureLogging, createLogger, currentLogger, levelFromEnvironment, logLine, LoggerOptions, rootLogger, withLogger } from './logger';

/** A destination that keeps the lines written to it, each parsed as JSON (a line that is not JSON fails the parse). */
function collector() {
  const raw: string[] = [];
  return {
    destination: { write: (chunk: string) => void raw.push(chunk) },
    raw,
    lines: () => raw.map((chunk) => JSON.parse(chunk) as Record<string, unknown>),
  };
}

function logger(options: Partial<LoggerOptions> = {}) {
  const out = collector();
  return { out, log: createLogger({ service: 'api', level: 'info', destination: out.destination, ...options }) };
}

describe('logger', () => {
  it('writes one JSON object per line with level, time, service, pid and msg', () => {
    const { out, log } = logger();
    log.info('meeting-diarization server on http://127.0.0.1:4000/graphql');
    expect(out.raw).toHaveLength(1);
    expect(out.raw[0].endsWith('\n')).toBe(true);
    expect(out.raw[0].trim()).not.toContain('\n');
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 'info', service: 'api', pid: process.pid, msg: 'meeting-diarization server on http://127.0.0.1:4000/graphql' });
    expect(new Date(String(line.time)).getTime()).toBeGreaterThan(0);
  });

  it('drops lines below its level', () => {
    const { out, log } = logger({ level: 'warn' });
    log.info('not written');
    log.debug('not written either');
    log.warn('written');
    expect(out.lines().map((l) => [l.level, l.msg])).toEqual([['warn', 'written']]);
  });

  it('redacts bearer tokens and ?token= values in messages, printf arguments and url fields', () => {
    const { out, log } = logger();
    log.info('upstream said: Authorization: Bearer s3cr3t-token.abc');
    log.info('GET %s failed', '/media/m1/audio?token=s3cr3t-token&x=1');
    log.info({ url: '/media/m1/peaks?access_token=s3cr3t-token' }, 'media request');
    const text = out.raw.join('');
    expect(text).not.toContain('s3cr3t-token');
    const [bearer, printf, field] = out.lines();
    expect(bearer.msg).toBe('upstream said: Authorization: Bearer [redacted]');
    expect(printf.msg).toBe('GET /media/m1/audio?token=[redacted]&x=1 failed');
    expect(field.url).toBe('/media/m1/peaks?access_token=[redacted]');
  });

  it('redacts authorization headers and token fields in logged objects, and token text in errors', () => {
    const { out, log } = logger();
    log.info({ req: { method: 'GET', headers: { authorization: 'Bearer s3cr3t-token', 'user-agent': 'curl' } } }, 'request');
    log.info({ headers: { authorization: 'Basic s3cr3t-token', cookie: 'sid=s3cr3t-token' } }, 'headers');
    log.info({ token: 's3cr3t-token', webhook: { secret: 's3cr3t-token', url: 'https://example.com/hook' } }, 'fields');
    log.error({ err: new Error('fetch /media/a?token=s3cr3t-token failed') }, 'boom');
    expect(out.raw.join('')).not.toContain('s3cr3t-token');
    const [req, headers, fields, error] = out.lines();
    expect(req.req).toEqual({ method: 'GET', headers: { authorization: '[redacted]', 'user-agent': 'curl' } });
    expect(headers.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]' });
    expect(fields).toMatchObject({ token: '[redacted]', webhook: { secret: '[redacted]', url: 'https://example.com/hook' } });
    expect(error.err).toMatchObject({ type: 'Error', message: 'fetch /media/a?token=[redacted] failed' });
    expect(String((error.err as { stack: string }).stack)).toContain('?token=[redacted]');
  });

  it('takes LOG_LEVEL from the environment, and is silent under jest unless told', () => {
    expect(levelFromEnvironment({ LOG_LEVEL: 'debug' })).toBe('debug');
    expect(levelFromEnvironment({ LOG_LEVEL: ' WARN ' })).toBe('warn');
    expect(levelFromEnvironment({ LOG_LEVEL: 'chatty', NODE_ENV: 'production' })).toBe('info');
    expect(levelFromEnvironment({})).toBe('info');
    expect(levelFromEnvironment({ NODE_ENV: 'test' })).toBe('silent');
    expect(levelFromEnvironment({ NODE_ENV: 'test', LOG_LEVEL: 'info' })).toBe('info');
  });
});

describe('request and job scopes', () => {
  const out = collector();
  beforeAll(() => {
    configureLogging({ service: 'server', level: 'info', destination: out.destination });
  });
  beforeEach(() => {
    out.raw.length = 0;
  });

  it('a logLine() callback writes through the scope: each line carries its requestId, also after awaits', async () => {
    const log = logLine();
    const request = async (requestId: string) =>
      withLogger(rootLogger().child({ requestId }), async () => {
        log(`start ${requestId}`);
        await sleep(5);
        log(`after the await ${requestId}`, 'warn');
      });
    await Promise.all([request('abc-123'), request('def-456')]);
    log('outside any request');
    const lines = out.lines();
    expect(lines).toHaveLength(5);
    for (const id of ['abc-123', 'def-456']) {
      const mine = lines.filter((l) => String(l.msg).endsWith(id));
      expect(mine.map((l) => [l.requestId, l.level])).toEqual([
        [id, 'info'],
        [id, 'warn'],
      ]);
    }
    const outside = lines.find((l) => l.msg === 'outside any request');
    expect(outside).toMatchObject({ service: 'server', level: 'info' });
    expect(outside).not.toHaveProperty('requestId');
  });

  it("currentLogger() is the scope's child inside and the process logger outside", () => {
    const child = rootLogger().child({ jobId: 'j1', attempt: 2, meetingId: 'm1' });
    withLogger(child, () => currentLogger().info('decoding'));
    expect(currentLogger()).toBe(rootLogger());
    expect(out.lines()).toEqual([expect.objectContaining({ jobId: 'j1', attempt: 2, meetingId: 'm1', msg: 'decoding' })]);
  });
});
