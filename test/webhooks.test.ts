/**
 * Webhooks against a real server (issue 13, item 6): internal addresses refused at registration
 * and at delivery (DNS rebinding), redirects not followed, retries with backoff, delivery records
 * readable by the ADMIN token holder. Job ends come from cancelled jobs (no diarization needed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { Engine } from '../server/src/diarization/engine';
import { setWebhookLookupForTests } from '../server/src/jobs/webhook-address-policy';
import { signWebhook } from '../server/src/jobs/webhooks';
import { openStore } from '../server/src/store/database';
import { startTestServer, TestServer, uploadFile, waitFor } from './support/platform';
import { startPlatformProcess, type Child } from './support/processes';

const SAMPLE = path.resolve(__dirname, '../../shared/data/dev/diarization/pyannote_sample.wav');
const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ threads: 2 });
});
afterAll(async () => {
  setWebhookLookupForTests(undefined);
  await engine.release();
});

interface Hit {
  path: string;
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
}

/** A webhook receiver on 127.0.0.1 answering each request as `answer` says. */
async function startReceiver(answer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })) {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', body, headers: req.headers, at: Date.now() });
      const { status, headers } = answer(hits.length);
      res.writeHead(status, headers).end('answer');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return { hits, port, url: (p: string) => `http://127.0.0.1:${port}${p}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** What the helpers below need of a server: an in-process TestServer or a server process (apiOf). */
type Api = Pick<TestServer, 'url' | 'adminToken' | 'gql'>;

/** A server process (support/processes) seen through the same helpers. */
function apiOf(child: Child, adminToken: string): Api {
  return {
    url: child.url,
    adminToken,
    async gql(query, variables, token = adminToken) {
      const res = await fetch(`${child.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return { ...((await res.json()) as object), status: res.status };
    },
  };
}

async function createToken(server: Api, name: string, webhookUrl: string) {
  return server.gql<{ createToken: { token: { id: string }; webhookSecret: string } }>(
    'mutation($n: String!, $u: String) { createToken(name: $n, scope: READ, webhookUrl: $u) { token { id } webhookSecret } }',
    { n: name, u: webhookUrl },
  );
}

/** Makes one job end (a meeting whose diarization is cancelled at once) and returns its id. */
async function endAJob(server: Api): Promise<string> {
  const upload = await uploadFile(server, SAMPLE);
  const made = await server.gql<{ createMeeting: { latestJob: { id: string } } }>(
    'mutation($input: CreateMeetingInput!) { createMeeting(input: $input) { latestJob { id } } }',
    { input: { uploadId: upload.body.id, title: 'Hooked' } },
  );
  expect(made.errors).toBeUndefined();
  const jobId = made.data!.createMeeting.latestJob.id;
  // It may already have ended: any final state sends the webhook.
  await server.gql('mutation($id: ID!) { cancelJob(id: $id) { state } }', { id: jobId });
  await waitFor(`job ${jobId} to end`, async () => {
    const state = (await server.gql<{ job: { state: string } }>('query($id: ID!) { job(id: $id) { state } }', { id: jobId })).data!.job.state;
    return FINAL.includes(state) ? state : undefined;
  });
  return jobId;
}

interface Delivery {
  id: string;
  tokenId: string;
  jobId: string;
  url: string;
  attempts: number;
  status: string;
  statusCode: number | null;
  reason: string | null;
  finishedAt: string | null;
}

const DELIVERY_FIELDS = 'id tokenId jobId url attempts status statusCode reason finishedAt';

/** The finished delivery record of one token for one job. */
async function finishedDelivery(server: Api, tokenId: string, jobId: string): Promise<Delivery> {
  return waitFor(
    'the delivery record',
    async () => {
      const res = await server.gql<{ webhookDeliveries: { nodes: Delivery[] } }>(
        `query($t: ID, $j: ID) { webhookDeliveries(tokenId: $t, jobId: $j) { nodes { ${DELIVERY_FIELDS} } } }`,
        { t: tokenId, j: jobId },
      );
      expect(res.errors).toBeUndefined();
      const [delivery] = res.data!.webhookDeliveries.nodes;
      return delivery?.finishedAt ? delivery : undefined;
    },
    20_000,
  );
}

async function revoke(server: Api, tokenId: string): Promise<void> {
  await server.gql('mutation($id: ID!) { revokeToken(id: $id) { id } }', { id: tokenId });
}

describe.each(['sqlite', 'postgres'] as const)('webhooks with the default address policy on %s', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ backend, engine });
  });
  afterAll(async () => {
    setWebhookLookupForTests(undefined);
    await server.stop();
  });

  it.each([
    ['http://127.0.0.1:9/hook', /127\.0\.0\.1 is a loopback address/],
    ['http://10.0.0.1/hook', /10\.0\.0\.1 is a private \(RFC 1918\) address/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a cloud metadata address/],
    ['http://[::ffff:127.0.0.1]/hook', /127\.0\.0\.1 is a loopback address/],
    ['http://localhost:8080/hook', /localhost resolves to a refused address: (127\.0\.0\.1|::1) is a loopback address/],
  ])('refuses %s at registration with the reason', async (url, reason) => {
    const res = await createToken(server, 'internal', url);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions!.code).toBe('INVALID_ARGUMENT');
    expect(res.errors![0].message).toMatch(/^webhookUrl refused: /);
    expect(res.errors![0].message).toMatch(reason);
    expect(res.data?.createToken ?? null).toBeNull();
    const tokens = await server.gql<{ tokens: Array<{ webhookUrl: string | null }> }>('{ tokens { webhookUrl } }');
    expect(tokens.data!.tokens.map((t) => t.webhookUrl)).not.toContain(url);
    // The server keeps serving.
    expect((await server.gql('{ viewer { scope } }')).errors).toBeUndefined();
  });

  it('refuses at delivery a name that resolved to a public address at registration and to 127.0.0.1 afterwards (DNS rebinding)', async () => {
    // If the guard let it through, the POST would land on this receiver (the name's port is its port).
    const receiver = await startReceiver();
    const lookups: string[] = [];
    setWebhookLookupForTests(async (hostname) => {
      lookups.push(hostname);
      if (hostname !== 'hooks.rebind.test') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return lookups.length === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    });
    try {
      const made = await createToken(server, 'rebinding', `http://hooks.rebind.test:${receiver.port}/hook`);
      expect(made.errors).toBeUndefined();
      const tokenId = made.data!.createToken.token.id;
      const jobId = await endAJob(server);
      const delivery = await finishedDelivery(server, tokenId, jobId);
      expect(delivery).toMatchObject({ status: 'REFUSED', attempts: 1, statusCode: null, url: `http://hooks.rebind.test:${receiver.port}/hook` });
      expect(delivery.reason).toBe(
        'refused: hooks.rebind.test resolves to a refused address: 127.0.0.1 is a loopback address; set WEBHOOK_ALLOW_PRIVATE=true for a receiver on your own network',
      );
      expect(receiver.hits).toHaveLength(0);
      expect(lookups.length).toBeGreaterThanOrEqual(2);
      await revoke(server, tokenId);
    } finally {
      setWebhookLookupForTests(undefined);
      await receiver.close();
    }
  });

  it('lets only the ADMIN token read delivery records', async () => {
    const reader = await server.gql<{ createToken: { secret: string } }>('mutation { createToken(name: "reader", scope: READ) { secret } }');
    const res = await server.gql('{ webhookDeliveries { totalCount } }', undefined, reader.data!.createToken.secret);
    expect(res.errors![0].extensions!.code).toBe('FORBIDDEN');
    const tooMany = await server.gql('{ webhookDeliveries(first: 101) { totalCount } }');
    expect(tooMany.errors![0].message).toMatch(/first must be between 1 and 100/);
    // Priced by page size like every list (graphql/cost.ts): 1 + 100 × 10 per page of 9 fields, so 60 pages exceed 50 000.
    const pages = Array.from({ length: 60 }, (_, i) => `p${i}: webhookDeliveries(first: 100) { nodes { ${DELIVERY_FIELDS} } }`).join(' ');
    const priced = await server.gql(`{ ${pages} }`);
    expect(priced.errors![0].extensions!.code).toBe('QUERY_TOO_COMPLEX');
    expect(priced.errors![0].message).toMatch(/estimated cost \d+ exceeds the limit 50000/);
  });
});

describe.each(['sqlite', 'postgres'] as const)('webhooks with WEBHOOK_ALLOW_PRIVATE=true on %s', (backend) => {
  let server: TestServer;
  const backoffMs = 100;
  beforeAll(async () => {
    server = await startTestServer({ backend, engine, config: { webhookAllowPrivate: true, webhookMaxAttempts: 3, webhookBackoffMs: backoffMs } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('does not follow a redirect to 127.0.0.1: the delivery fails with "redirect not followed" and the target is never hit', async () => {
    const target = await startReceiver();
    const redirecting = await startReceiver(() => ({ status: 302, headers: { location: target.url('/stolen') } }));
    try {
      const made = await createToken(server, 'redirecting', redirecting.url('/hook'));
      expect(made.errors).toBeUndefined();
      const tokenId = made.data!.createToken.token.id;
      const jobId = await endAJob(server);
      const delivery = await finishedDelivery(server, tokenId, jobId);
      expect(delivery).toMatchObject({ status: 'FAILED', attempts: 1, statusCode: 302 });
      expect(delivery.reason).toMatch(/redirect not followed/);
      expect(redirecting.hits.filter((h) => h.body.includes(jobId))).toHaveLength(1);
      expect(target.hits).toHaveLength(0);
      await revoke(server, tokenId);
    } finally {
      await target.close();
      await redirecting.close();
    }
  });

  it('retries a receiver that fails twice, with backoff, and records DELIVERED after 3 attempts with a valid signature each time', async () => {
    const flaky = await startReceiver((n) => ({ status: n <= 2 ? 500 : 200 }));
    try {
      const made = await createToken(server, 'flaky', flaky.url('/hook?team=ops'));
      expect(made.errors).toBeUndefined();
      const tokenId = made.data!.createToken.token.id;
      const webhookSecret = made.data!.createToken.webhookSecret;

      const jobId = await endAJob(server);
      const delivery = await finishedDelivery(server, tokenId, jobId);
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 3, statusCode: 200, reason: null, url: flaky.url('/hook?team=ops') });

      expect(flaky.hits).toHaveLength(3);
      for (const hit of flaky.hits) {
        expect(hit.path).toBe('/hook?team=ops');
        expect(hit.headers['x-diarization-signature']).toBe(signWebhook(webhookSecret, hit.body));
        expect(hit.headers['x-diarization-delivery']).toBe(delivery.id);
        expect(hit.body).toBe(flaky.hits[0].body);
      }
      expect(JSON.parse(flaky.hits[0].body)).toMatchObject({ event: 'job.finished', job: { id: jobId } });
      // 1st retry after backoffMs, 2nd after 5 × backoffMs.
      expect(flaky.hits[1].at - flaky.hits[0].at).toBeGreaterThanOrEqual(backoffMs - 10);
      expect(flaky.hits[2].at - flaky.hits[1].at).toBeGreaterThanOrEqual(5 * backoffMs - 10);

      const listed = await server.gql<{ webhookDeliveries: { totalCount: number; nodes: Delivery[] } }>(
        'query($t: ID) { webhookDeliveries(tokenId: $t, first: 5) { totalCount nodes { id status } } }',
        { t: tokenId },
      );
      expect(listed.data!.webhookDeliveries).toEqual({ totalCount: 1, nodes: [{ id: delivery.id, status: 'DELIVERED' }] });
      await revoke(server, tokenId);
    } finally {
      await flaky.close();
    }
  });

  it('gives up after WEBHOOK_MAX_ATTEMPTS and keeps the last status and reason', async () => {
    const down = await startReceiver(() => ({ status: 503 }));
    try {
      const made = await createToken(server, 'down', down.url('/hook'));
      const tokenId = made.data!.createToken.token.id;
      const jobId = await endAJob(server);
      const delivery = await finishedDelivery(server, tokenId, jobId);
      expect(delivery).toMatchObject({ status: 'FAILED', attempts: 3, statusCode: 503, reason: 'the receiver answered 503 (attempt 3 of 3)' });
      expect(down.hits.filter((h) => h.body.includes(jobId))).toHaveLength(3);
      await revoke(server, tokenId);
    } finally {
      await down.close();
    }
  });

  it('connects to the address it checked, never resolving the name a second time', async () => {
    const receiver = await startReceiver();
    // The system resolver knows no such name: the POST arrives only through the checked address.
    const restore = setWebhookLookupForTests(async (hostname) => {
      if (hostname !== 'hooks.pinned.test') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return [{ address: '127.0.0.1', family: 4 }];
    });
    try {
      const made = await createToken(server, 'pinned', `http://hooks.pinned.test:${receiver.port}/hook`);
      expect(made.errors).toBeUndefined();
      const tokenId = made.data!.createToken.token.id;
      const jobId = await endAJob(server);
      expect(await finishedDelivery(server, tokenId, jobId)).toMatchObject({ status: 'DELIVERED', attempts: 1, statusCode: 200 });
      const hit = receiver.hits.find((h) => h.body.includes(jobId))!;
      // The request still names the host of the URL (virtual hosts, TLS certificates).
      expect(hit.headers.host).toBe(`hooks.pinned.test:${receiver.port}`);
      await revoke(server, tokenId);
    } finally {
      restore();
      await receiver.close();
    }
  });

  it('still refuses the metadata address with WEBHOOK_ALLOW_PRIVATE=true', async () => {
    const res = await createToken(server, 'metadata', 'http://169.254.169.254/latest/meta-data/');
    expect(res.errors![0].message).toMatch(/169\.254\.169\.254 is a cloud metadata address/);
  });
});

describe('webhooks when the receiver hangs and the server stops during the backoff', () => {
  it('times the attempt out, stops waiting at shutdown, leaves the delivery PENDING and resumes it at the next start', async () => {
    const sockets = new Set<import('node:net').Socket>();
    let requests = 0;
    // Reads the first request and never answers it; answers the next ones (the receiver is back).
    const hanging = createServer((_req, res) => void (requests++ > 0 && res.writeHead(200).end()));
    hanging.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', () => resolve()));
    const port = (hanging.address() as { port: number }).port;
    const config = { webhookAllowPrivate: true, webhookMaxAttempts: 2, webhookBackoffMs: 60_000, webhookTimeoutMs: 300 };
    let server = await startTestServer({ backend: 'sqlite', engine, config });
    const dataDir = server.dataDir;
    try {
      const made = await createToken(server, 'hanging', `http://127.0.0.1:${port}/hook`);
      const tokenId = made.data!.createToken.token.id;
      const jobId = await endAJob(server);
      const pending = await waitFor(
        'the first attempt to time out',
        async () => {
          const res = await server.gql<{ webhookDeliveries: { nodes: Delivery[] } }>(
            `query($t: ID) { webhookDeliveries(tokenId: $t) { nodes { ${DELIVERY_FIELDS} } } }`,
            {
              t: tokenId,
            },
          );
          const [delivery] = res.data!.webhookDeliveries.nodes;
          return delivery?.attempts === 1 ? delivery : undefined;
        },
        20_000,
      );
      expect(pending).toMatchObject({ jobId, status: 'PENDING', finishedAt: null, reason: 'no answer within 0.3 s (attempt 1 of 2)' });

      // The next attempt is a minute away: stopping must not wait for it, nor lose it.
      const stopping = Date.now();
      await server.stop({ keepData: true });
      expect(Date.now() - stopping).toBeLessThan(10_000);
      const store = await openStore({ dataDir });
      try {
        expect(await store.getWebhookDelivery(pending.id)).toMatchObject({
          status: 'PENDING',
          attempts: 1,
          reason: 'no answer within 0.3 s (attempt 1 of 2); the server stopped before the next attempt, the remaining ones go on when it starts again',
        });
      } finally {
        await store.close();
      }

      server = await startTestServer({ backend: 'sqlite', engine, config, dataDir });
      const resumed = await finishedDelivery(server, tokenId, jobId);
      expect(resumed).toMatchObject({ id: pending.id, status: 'DELIVERED', attempts: 2, statusCode: 200, reason: null });
      expect(requests).toBe(2);
    } finally {
      await server.stop();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});

describe('webhooks when the server process is killed during the retries', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'webhooks-killed-'));
  const adminToken = `webhooks-admin-${'z'.repeat(20)}`;
  // The next attempt is a minute away when the process dies: only a resumed delivery reaches the receiver soon.
  const env = {
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    ENGINE_THREADS: '1',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_MAX_ATTEMPTS: '4',
    WEBHOOK_BACKOFF_MS: '60000',
  };
  let child: Child | undefined;
  afterAll(async () => {
    await child?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes the remaining attempts on restart (DELIVERED), or fails a delivery whose token was revoked meanwhile with the reason', async () => {
    let answer = 500;
    const receiver = await startReceiver(() => ({ status: answer }));
    const revoked = await startReceiver(() => ({ status: 500 }));
    try {
      child = await startPlatformProcess('api', env);
      let api = apiOf(child, adminToken);
      const kept = await createToken(api, 'kept', receiver.url('/hook'));
      const dropped = await createToken(api, 'dropped', revoked.url('/hook'));
      const [keptId, droppedId] = [kept, dropped].map((t) => t.data!.createToken.token.id);
      const jobId = await endAJob(api);
      const deliveries = async () =>
        (
          await api.gql<{ webhookDeliveries: { nodes: Delivery[] } }>(`query($j: ID) { webhookDeliveries(jobId: $j) { nodes { ${DELIVERY_FIELDS} } } }`, {
            j: jobId,
          })
        ).data!.webhookDeliveries.nodes;
      const pending = await waitFor(
        'the first attempt of both to fail',
        async () => {
          const nodes = await deliveries();
          return nodes.length === 2 && nodes.every((d) => d.attempts === 1) ? nodes : undefined;
        },
        20_000,
      );
      for (const d of pending)
        expect(d).toMatchObject({ status: 'PENDING', statusCode: 500, reason: 'the receiver answered 500 (attempt 1 of 4)', finishedAt: null });
      await revoke(api, droppedId); // while its delivery waits out the backoff

      await child.kill('SIGKILL');
      answer = 200;
      child = await startPlatformProcess('api', env);
      api = apiOf(child, adminToken);

      const delivered = await finishedDelivery(api, keptId, jobId);
      expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 2, statusCode: 200, reason: null, url: receiver.url('/hook') });
      const hits = receiver.hits.filter((h) => h.headers['x-diarization-delivery'] === delivered.id);
      expect(hits.map((h) => JSON.parse(h.body).job)).toEqual([expect.objectContaining({ id: jobId }), expect.objectContaining({ id: jobId })]);
      expect(JSON.parse(hits[1].body).job).toEqual(JSON.parse(hits[0].body).job); // the same outcome, rebuilt from the job's record
      expect(hits[1].headers['x-diarization-signature']).toBe(signWebhook(kept.data!.createToken.webhookSecret, hits[1].body));

      const failed = await finishedDelivery(api, droppedId, jobId);
      expect(failed).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        statusCode: 500,
        reason: 'the server stopped while delivering, after 1 of 4 attempts; its token has been revoked since, so it was not resumed',
      });
      expect(revoked.hits).toHaveLength(1);
      expect((await deliveries()).map((d) => d.status).sort()).toEqual(['DELIVERED', 'FAILED']);
    } finally {
      await receiver.close();
      await revoked.close();
    }
  });
});
