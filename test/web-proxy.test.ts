/**
 * The web app's /api/graphql proxy caps the body it reads (WEB_PROXY_MAX_BODY_MB): the route
 * handler runs as Next.js runs it (a Web Request in, a Response out) against a stand-in API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

// Loaded by path: the route is type-checked with the web app's own tsconfig (Next.js types), not this one.
const ROUTE = path.join(__dirname, '../web/app/api/graphql/route.ts');
let POST: (req: Request) => Promise<Response>;

let api: Server;
const received: number[] = [];

beforeAll(async () => {
  ({ POST } = (await import(ROUTE)) as { POST: typeof POST });
  api = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      received.push(bytes);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { bytes } }));
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  process.env.API_HOST = '127.0.0.1';
  process.env.API_PORT = String((api.address() as AddressInfo).port);
  process.env.WEB_PROXY_MAX_BODY_MB = '1';
});

afterAll(async () => {
  delete process.env.WEB_PROXY_MAX_BODY_MB;
  await new Promise<void>((resolve) => api.close(() => resolve()));
});

beforeEach(() => (received.length = 0));

function post(body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Request {
  return new Request('http://web.test/api/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
}

async function expectRefused(res: Response) {
  expect(res.status).toBe(413);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('BODY_TOO_LARGE');
  expect(body.error.message).toMatch(/limit of 1 MB \(WEB_PROXY_MAX_BODY_MB\)/);
  expect(received).toEqual([]); // nothing reached the API
}

it('passes an ordinary query through', async () => {
  const query = JSON.stringify({ query: '{ viewer { scope } }' });
  const res = await POST(post(query));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ data: { bytes: Buffer.byteLength(query) } });
});

it('refuses a declared length over the cap before reading the body', async () => {
  const big = 'x'.repeat(2 * 1024 * 1024);
  await expectRefused(await POST(post(big, { 'content-length': String(big.length) })));
});

it('refuses a streamed body without a length after the cap, without reading the rest', async () => {
  // 64 KiB chunks, endless unless the reader stops: a buffering proxy would never answer.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 1;
      controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
    },
  });
  await expectRefused(await POST(post(endless)));
  expect(pulled * 64 * 1024).toBeLessThan(1.5 * 1024 * 1024);
});

it('keeps serving after a refusal', async () => {
  await expectRefused(await POST(post('x'.repeat(1024 * 1024 + 1))));
  expect((await POST(post('{"query":"{ tags }"}'))).status).toBe(200);
});

it('by default takes what the API takes, 2 MB plus twice MAX_TRANSCRIPT_MB, so an attached transcript gets through', async () => {
  delete process.env.WEB_PROXY_MAX_BODY_MB;
  process.env.MAX_TRANSCRIPT_MB = '1';
  try {
    const fits = JSON.stringify({
      query: 'mutation($c: String!) { attachTranscript(meetingId: "m", format: VTT, content: $c) { cueCount } }',
      variables: { c: 'x'.repeat(3.5 * 1024 * 1024) },
    });
    const res = await POST(post(fits));
    expect(res.status).toBe(200);
    expect(received).toEqual([Buffer.byteLength(fits)]);
    const over = 'x'.repeat(4 * 1024 * 1024 + 1);
    const refused = await POST(post(over));
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/limit of 4 MB \(WEB_PROXY_MAX_BODY_MB\)/);
  } finally {
    delete process.env.MAX_TRANSCRIPT_MB;
    process.env.WEB_PROXY_MAX_BODY_MB = '1';
  }
});
