import { createHealth } from './health';
import { RunningPlatform } from './platform';

/** Just what /healthz reads from a platform: the store's ping, the queue, the model, the tokens. */
function fakePlatform(options: { databaseUp?: boolean; redisUp?: boolean; engine?: boolean } = {}) {
  const state = { databaseUp: options.databaseUp ?? true, redisUp: options.redisUp };
  const logged: string[] = [];
  const platform = {
    store: { ping: async () => (state.databaseUp ? undefined : Promise.reject(new Error('connect ECONNREFUSED db.internal:5432 /var/lib/pg'))) },
    queue: { counts: () => ({ queued: 2, running: 1 }), ...(state.redisUp === undefined ? {} : { reachable: () => state.redisUp! }) },
    model: { name: 'campplus', hash: 'abc123', dim: 192 },
    engine: options.engine ? {} : undefined,
    tokens: {
      authenticate: async (authorization: string) => {
        if (authorization === 'Bearer good') return { scope: 'read', tokenName: 'monitor' };
        throw new Error('Unknown or revoked token.');
      },
    },
    log: (line: string) => logged.push(line),
  } as unknown as RunningPlatform;
  return { platform, state, logged };
}

describe('createHealth', () => {
  it('answers ok with only the status, and the details for a valid token', async () => {
    const { platform } = fakePlatform({ engine: true });
    const health = createHealth(platform, { role: 'api' });
    expect(await health.answer(undefined)).toEqual({ httpStatus: 200, body: { status: 'ok' } });
    expect(await health.answer('Bearer wrong')).toEqual({ httpStatus: 200, body: { status: 'ok' } });
    expect(await health.answer('Bearer good')).toEqual({
      httpStatus: 200,
      body: {
        status: 'ok',
        ok: true,
        database: 'ok',
        queue: { queued: 2, running: 1 },
        model: { name: 'campplus', hash: 'abc123', dim: 192 },
        engine: 'in-process',
      },
    });
  });

  it('is unavailable while the database is down, and keeps the driver text in the log', async () => {
    const { platform, logged } = fakePlatform({ databaseUp: false });
    const health = createHealth(platform, { role: 'api' });
    expect(await health.answer(undefined)).toEqual({ httpStatus: 503, body: { status: 'unavailable' } });
    const detailed = await health.answer('Bearer good');
    expect(detailed.httpStatus).toBe(503);
    expect(detailed.body).toMatchObject({ status: 'unavailable', ok: false, database: 'unreachable' });
    expect(JSON.stringify(detailed.body)).not.toMatch(/ECONNREFUSED|db\.internal|\/var\/lib/);
    expect(logged.join('\n')).toMatch(/ECONNREFUSED/);
  });

  it('a worker is unavailable without Redis; an API process stays ok and says so in the details', async () => {
    const { platform, state } = fakePlatform({ redisUp: false });
    const worker = createHealth(platform, { role: 'worker' });
    const api = createHealth(platform, { role: 'api' });
    expect(await worker.answer(undefined)).toEqual({ httpStatus: 503, body: { status: 'unavailable' } });
    expect(await api.answer('Bearer good')).toMatchObject({ httpStatus: 200, body: { status: 'ok', redis: 'unreachable', engine: 'workers' } });
    state.redisUp = true;
    expect(await worker.answer('Bearer good')).toMatchObject({ httpStatus: 200, body: { status: 'ok', redis: 'ok' } });
  });

  it('says draining from markDraining on, even when something else is down', async () => {
    const { platform, state } = fakePlatform({ redisUp: true });
    const health = createHealth(platform, { role: 'worker' });
    health.markDraining();
    expect(health.draining).toBe(true);
    expect(await health.answer(undefined)).toEqual({ httpStatus: 503, body: { status: 'draining' } });
    state.databaseUp = false;
    expect(await health.answer('Bearer good')).toMatchObject({ httpStatus: 503, body: { status: 'draining', database: 'unreachable' } });
  });
});
