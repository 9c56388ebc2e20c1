/**
 * Server hardening (issue 13): one cost model for HTTP and graphql-ws, bounded sockets, masked
 * errors on every transport, a /healthz that reveals nothing without a token.
 */
import 'reflect-metadata';
import WebSocket from 'ws';

import { loadServerConfig } from '../server/src/config/server-config';
import { Engine } from '../server/src/diarization/engine';
import { MeetingResolver } from '../server/src/graphql/resolvers/meeting.resolver';
import { StatsResolver } from '../server/src/graphql/resolvers/stats.resolver';
import { seedHourMeeting } from '../server/bench/server-seed';
import { startTestServer, TestServer } from './support/platform';

jest.setTimeout(120_000);

let engine: Engine;
let server: TestServer;
let readToken: string;
let readTokenId: string;
const logLines: string[] = [];

beforeAll(async () => {
  engine = await Engine.create({ threads: 1 });
  server = await startTestServer({ backend: 'sqlite', engine, log: (...parts: unknown[]) => logLines.push(parts.map(String).join(' ')) });
  const created = await server.gql<{ createToken: { secret: string; token: { id: string } } }>(
    'mutation { createToken(name: "analytics", scope: READ) { secret token { id } } }',
  );
  readToken = created.data!.createToken.secret;
  readTokenId = created.data!.createToken.token.id;
});

afterAll(async () => {
  await server?.stop();
  await engine?.release();
});

afterEach(() => jest.restoreAllMocks());

/** Spies on the resolvers an expensive query would reach, to show the refusal came first. */
function resolverSpies() {
  return [
    jest.spyOn(StatsResolver.prototype, 'aggregateStats'),
    jest.spyOn(StatsResolver.prototype, 'stats'),
    jest.spyOn(MeetingResolver.prototype, 'meeting'),
    jest.spyOn(MeetingResolver.prototype, 'meetings'),
    jest.spyOn(MeetingResolver.prototype, 'export'),
  ];
}

function aliased(count: number, field: string): string {
  return `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
}

async function expectTooComplex(query: string, transportToken = readToken) {
  const spies = resolverSpies();
  const result = await server.gql(query, undefined, transportToken);
  expect(result.data ?? null).toBeNull();
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0].extensions!.code).toBe('QUERY_TOO_COMPLEX');
  expect(result.errors![0].message).toMatch(/limit/);
  for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  return result.errors![0].message;
}

describe('one cost model', () => {
  it('refuses 900 aliased stats before any resolver runs', async () => {
    const message = await expectTooComplex(aliased(900, 'stats { meetings overlapSeconds people { name share } }'));
    // Over both the document cap and the alias cap: either refusal names its limit.
    expect(message).toMatch(/900 aliased fields, the limit is 100|bytes, the limit is/);
  });

  it('prices export by its work: 50 aliased export(CSV) are refused by cost, not by aliases', async () => {
    const message = await expectTooComplex(`{ meeting(id: "m1") ${aliased(50, 'export(format: CSV)')} }`);
    expect(message).toMatch(/estimated cost \d+ exceeds the limit 50000/);
  });

  it('prices aggregate stats even on an empty platform', async () => {
    await expectTooComplex(aliased(30, 'stats { meetings }'));
  });

  it('refuses a 2,000-alias ~120 KB document as QUERY_TOO_COMPLEX, not INTERNAL', async () => {
    const query = aliased(2000, 'stats { meetings overlapSeconds people { name share } }');
    expect(query.length).toBeGreaterThan(100_000);
    const message = await expectTooComplex(query);
    expect(message).toMatch(/bytes, the limit is/);
  });

  it('refuses depth with the same code', async () => {
    await expectTooComplex(
      '{ meetings { nodes { speakers { person { meetings { speakers { person { meetings { speakers { person { meetings { id } } } } } } } } } } } }',
    );
  });

  it('still answers an ordinary query and a single stats', async () => {
    const result = await server.gql<{ stats: { meetings: number } }>('{ stats { meetings } }', undefined, readToken);
    expect(result.errors).toBeUndefined();
    expect(result.data!.stats.meetings).toBe(0);
  });
});

describe('the same refusals on a platform holding a one-hour meeting', () => {
  let meetingId: string;
  beforeAll(async () => {
    // An hour of turns (~1,500, six speakers) written through the store, as a finished job writes them.
    const model = { name: engine.model.name, hash: engine.model.hash, dim: engine.dim };
    ({ meetingId } = await seedHourMeeting({ dataDir: server.dataDir, model }));
    const one = await server.gql<{ meeting: { turns: { totalCount: number } } }>(
      'query($id: ID!) { meeting(id: $id) { turns(first: 1) { totalCount } } }',
      { id: meetingId },
      readToken,
    );
    expect(one.data!.meeting.turns.totalCount).toBeGreaterThan(1000);
  });

  // The refusal is computed from the document alone, so it takes no longer with an archive behind it
  // (the bound is 1 s, as the issue states; it is reached in a few ms).
  const refusedQuickly = async (query: string) => {
    const started = performance.now();
    await expectTooComplex(query);
    expect(performance.now() - started).toBeLessThan(1000);
  };

  it('refuses 900 aliased stats in under a second, before any resolver runs', () =>
    refusedQuickly(aliased(900, 'stats { meetings overlapSeconds people { name share } }')));
  it('refuses 50 aliased export(format: CSV) of that meeting', () => refusedQuickly(`{ meeting(id: "${meetingId}") ${aliased(50, 'export(format: CSV)')} }`));
  it('refuses a 2,000-alias ~120 KB document', () => refusedQuickly(aliased(2000, 'stats { meetings overlapSeconds people { name share } }')));
  it('still answers one stats over it', async () => {
    const result = await server.gql<{ stats: { meetings: number; people: unknown[] } }>('{ stats { meetings } }', undefined, readToken);
    expect(result.errors).toBeUndefined();
    expect(result.data!.stats.meetings).toBe(1);
  });
});

describe('graphql-ws', () => {
  function run(client: ReturnType<TestServer['ws']>, query: string) {
    return new Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> }>((resolve, reject) => {
      let result: { data?: unknown; errors?: never } | undefined;
      client.subscribe(
        { query },
        {
          next: (value) => (result = value as never),
          error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
          complete: () => resolve(result ?? {}),
        },
      );
    });
  }

  it('applies the cost model', async () => {
    const spies = resolverSpies();
    const result = await run(server.ws(readToken), '{ meetings(first: 100) { nodes { turns { nodes { start } } } } }');
    expect(result.errors![0].extensions!.code).toBe('QUERY_TOO_COMPLEX');
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('masks unexpected resolver errors as INTERNAL without a stack', async () => {
    jest.spyOn(MeetingResolver.prototype, 'tags').mockRejectedValue(new Error('driver exploded at /srv/secret/path.db'));
    const result = await run(server.ws(readToken), '{ tags }');
    expect(result.errors![0].extensions!.code).toBe('INTERNAL');
    expect(JSON.stringify(result)).not.toMatch(/secret|exploded|stack/);
  });

  it('closes a 10 MiB connection_init with 1009 before authentication', async () => {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(10 * 1024 * 1024) } }));
    expect(await closed).toBe(1009);
  });

  it('re-checks the token on every operation: a revoked token is refused on its open socket', async () => {
    const created = await server.gql<{ createToken: { secret: string; token: { id: string } } }>(
      'mutation { createToken(name: "short-lived", scope: READ) { secret token { id } } }',
    );
    const client = server.ws(created.data!.createToken.secret);
    expect((await run(client, '{ viewer { scope } }')).errors).toBeUndefined();
    await server.gql(`mutation { revokeToken(id: "${created.data!.createToken.token.id}") { id } }`);
    const after = await run(client, '{ viewer { scope } }').catch(() => ({ errors: [{ message: 'closed', extensions: { code: 'UNAUTHENTICATED' } }] }));
    expect(after.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('tokens', () => {
  it('accepts ?token= only on media GETs, and never logs it', async () => {
    const upload = await fetch(`${server.url}/uploads?token=${server.adminToken}`, { method: 'POST', body: new FormData() });
    expect(upload.status).toBe(401);
    jest.spyOn(server.platform.store, 'getMeeting').mockRejectedValue(new Error('disk on fire'));
    logLines.length = 0;
    const media = await fetch(`${server.url}/media/m1/audio?token=${readToken}`);
    expect(media.status).toBe(500);
    expect(logLines.join('\n')).toMatch(/token=\[redacted\]/);
    expect(logLines.join('\n')).not.toContain(readToken);
    expect((await server.gql('{ viewer { scope } }', undefined, readToken)).errors).toBeUndefined();
  });

  it('sends security headers with Referrer-Policy: no-referrer', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('lets the web app’s origin read x-request-id (CORS), not other origins', async () => {
    const allowed = await fetch(`${server.url}/healthz`, { headers: { origin: 'http://localhost:3000', 'x-request-id': 'cors-check-1' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(allowed.headers.get('access-control-expose-headers')?.toLowerCase().split(/,\s*/)).toContain('x-request-id');
    expect(allowed.headers.get('x-request-id')).toBe('cors-check-1');
    const other = await fetch(`${server.url}/healthz`, { headers: { origin: 'https://elsewhere.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('/healthz', () => {
  it('answers only a status without a token, even with the database down', async () => {
    const ok = await fetch(`${server.url}/healthz`);
    expect(await ok.json()).toEqual({ status: 'ok' });
    jest.spyOn(server.platform.store, 'ping').mockRejectedValue(new Error('connect ECONNREFUSED db.internal:5432 user=postgres /var/lib/pg'));
    const down = await fetch(`${server.url}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.text()).toBe(JSON.stringify({ status: 'unavailable' }));
  });

  it('keeps the details for a token holder', async () => {
    const res = await fetch(`${server.url}/healthz`, { headers: { authorization: `Bearer ${readToken}` } });
    expect(((await res.json()) as { model?: unknown }).model).toBeDefined();
  });
});

it('leaves the READ token usable', () => expect(readTokenId).toBeTruthy());

describe('per-token rate limit', () => {
  it('answers 429 with Retry-After beyond the limit, other tokens unaffected', async () => {
    const limited = await startTestServer({ backend: 'sqlite', engine, config: { rateLimitPoints: 3, rateLimitWindowSec: 60 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.gql('{ viewer { scope } }')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const res = await fetch(`${limited.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${limited.adminToken}` },
        body: JSON.stringify({ query: '{ viewer { scope } }' }),
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await limited.gql('{ viewer { scope } }', undefined, 'another-token')).status).not.toBe(429);
    } finally {
      await limited.stop();
    }
  });

  /** An anonymous request as it arrives from a proxy that appends the client's address to X-Forwarded-For. */
  const anonymous = async (url: string, forwardedFor: string) =>
    (
      await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ query: '{ viewer { scope } }' }),
      })
    ).status;

  it('counts anonymous clients by their X-Forwarded-For address with TRUST_PROXY=1 (the last hop only)', async () => {
    const { trustProxy } = loadServerConfig({ TRUST_PROXY: '1' });
    expect(trustProxy).toBe(1);
    const limited = await startTestServer({ backend: 'sqlite', engine, config: { rateLimitPoints: 2, rateLimitWindowSec: 60, trustProxy } });
    try {
      const first = [await anonymous(limited.url, '198.51.100.7'), await anonymous(limited.url, '198.51.100.7'), await anonymous(limited.url, '198.51.100.7')];
      expect(first).toEqual([401, 401, 429]);
      // Another client behind the same proxy has its own bucket.
      expect(await anonymous(limited.url, '198.51.100.8')).toBe(401);
      // Only the entry the proxy added counts: an address the client wrote in front of it picks no new bucket.
      expect(await anonymous(limited.url, '203.0.113.99, 198.51.100.7')).toBe(429);
    } finally {
      await limited.stop();
    }
  });

  it('ignores X-Forwarded-For by default: every anonymous client through a proxy shares its address', async () => {
    const { trustProxy } = loadServerConfig({});
    expect(trustProxy).toBe(false);
    const limited = await startTestServer({ backend: 'sqlite', engine, config: { rateLimitPoints: 2, rateLimitWindowSec: 60 } });
    try {
      expect([await anonymous(limited.url, '198.51.100.7'), await anonymous(limited.url, '198.51.100.7')]).toEqual([401, 401]);
      expect(await anonymous(limited.url, '198.51.100.8')).toBe(429);
    } finally {
      await limited.stop();
    }
  });
});
