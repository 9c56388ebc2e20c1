/**
 * The web app's same-origin proxies, run as Next.js runs them (a Web Request in, a Response out)
 * against a stand-in API that gives request ids as the API does (its own request-log middleware):
 * /api/graphql caps the body it reads (WEB_PROXY_MAX_BODY_MB), and every proxy passes the browser's
 * `x-request-id` on and answers with the API's.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';

import { REQUEST_ID_HEADER, requestLogging } from '../server/src/http/request-log';

// Loaded by path: the routes are type-checked with the web app's own tsconfig (Next.js types), not this one.
const ROUTES = path.join(__dirname, '../web/app/api');
let POST: (req: Request) => Promise<Response>;
let uploadPOST: (req: Request) => Promise<Response>;
let mediaGET: (req: Request, ctx: { params: Promise<{ path: string[] }> }) => Promise<Response>;

let api: Server;
const received: number[] = [];
/** Per request the stand-in API saw: the id it was sent, and the id it logged under and answered with. */
const ids: Array<{ sent?: string; logged: string }> = [];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  ({ POST } = (await import(path.join(ROUTES, 'graphql/route.ts'))) as { POST: typeof POST });
  ({ POST: uploadPOST } = (await import(path.join(ROUTES, 'uploads/route.ts'))) as { POST: typeof uploadPOST });
  ({ GET: mediaGET } = (await import(path.join(ROUTES, 'media/[...path]/route.ts'))) as { GET: typeof mediaGET });
  const app = express();
  app.use(requestLogging());
  app.use((req, res) => {
    ids.push({ sent: req.headers[REQUEST_ID_HEADER] as string | undefined, logged: String(res.getHeader(REQUEST_ID_HEADER)) });
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      received.push(bytes);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { bytes } }));
    });
  });
  api = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => api.once('listening', () => resolve()));
  process.env.API_HOST = '127.0.0.1';
  process.env.API_PORT = String((api.address() as AddressInfo).port);
  process.env.WEB_PROXY_MAX_BODY_MB = '1';
});

afterAll(async () => {
  delete process.env.WEB_PROXY_MAX_BODY_MB;
  await new Promise<void>((resolve) => api.close(() => resolve()));
});

beforeEach(() => {
  received.length = 0;
  ids.length = 0;
});

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

describe('x-request-id', () => {
  const upload = (headers: Record<string, string> = {}) =>
    new Request('http://web.test/api/uploads', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=b', ...headers },
      body: '--b--\r\n',
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
  const media = (headers: Record<string, string> = {}) =>
    mediaGET(new Request('http://web.test/api/media/m1/audio', { headers }), { params: Promise.resolve({ path: ['m1', 'audio'] }) });

  it('passes the browser’s id to the API, which logs under it, and answers with it', async () => {
    const answers = [
      await POST(post('{"query":"{ tags }"}', { [REQUEST_ID_HEADER]: 'browser-graphql-1' })),
      await uploadPOST(upload({ [REQUEST_ID_HEADER]: 'browser-upload-1' })),
      await media({ [REQUEST_ID_HEADER]: 'browser-media-1' }),
    ];
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(ids).toEqual([
      { sent: 'browser-graphql-1', logged: 'browser-graphql-1' },
      { sent: 'browser-upload-1', logged: 'browser-upload-1' },
      { sent: 'browser-media-1', logged: 'browser-media-1' },
    ]);
    expect(answers.map((res) => res.headers.get(REQUEST_ID_HEADER))).toEqual(['browser-graphql-1', 'browser-upload-1', 'browser-media-1']);
  });

  it('sends none when the browser sent none, and brings back the id the API made', async () => {
    const answers = [await POST(post('{"query":"{ tags }"}')), await uploadPOST(upload()), await media()];
    expect(ids.map((id) => id.sent)).toEqual([undefined, undefined, undefined]);
    for (const [i, res] of answers.entries()) {
      expect(ids[i]!.logged).toMatch(UUID);
      expect(res.headers.get(REQUEST_ID_HEADER)).toBe(ids[i]!.logged);
    }
    expect(new Set(ids.map((id) => id.logged)).size).toBe(3);
  });

  it('answers with the API’s own id when the browser’s was not one the API keeps', async () => {
    const res = await POST(post('{"query":"{ tags }"}', { [REQUEST_ID_HEADER]: 'has spaces {"level":"fatal"}' }));
    expect(ids).toEqual([{ sent: 'has spaces {"level":"fatal"}', logged: expect.stringMatching(UUID) }]);
    expect(res.headers.get(REQUEST_ID_HEADER)).toBe(ids[0]!.logged);
  });
});
