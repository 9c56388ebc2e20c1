import { createServer } from 'node:http';

import { attemptDelivery, classifyStatus } from './webhook-delivery';

describe('webhook attempt outcomes', () => {
  it('delivers on 2xx only', () => {
    expect(classifyStatus(200)).toEqual({ delivered: true, statusCode: 200, retryable: false });
    expect(classifyStatus(204).delivered).toBe(true);
  });

  it.each([301, 302, 303, 307, 308])('fails %i as "redirect not followed", without retrying', (status) => {
    expect(classifyStatus(status)).toEqual({
      delivered: false,
      statusCode: status,
      reason: `the receiver answered ${status}: redirect not followed`,
      retryable: false,
    });
  });

  it.each([
    [400, false],
    [401, false],
    [404, false],
    [408, true],
    [429, true],
    [500, true],
    [503, true],
  ])('retries %i: %s', (status, retryable) => {
    expect(classifyStatus(status)).toEqual({ delivered: false, statusCode: status, reason: `the receiver answered ${status}`, retryable });
  });
});

describe('one webhook attempt', () => {
  it('posts the body with its headers, and a refused connection is a retryable failure', async () => {
    let received: { body: string; type?: string } | undefined;
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received = { body, type: req.headers['content-type'] };
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const port = (receiver.address() as { port: number }).port;
    const addresses = [{ address: '127.0.0.1', family: 4 as const }];
    try {
      const ok = await attemptDelivery({
        url: new URL(`http://receiver.test:${port}/hook`),
        addresses,
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
        timeoutMs: 2000,
      });
      expect(ok).toEqual({ delivered: true, statusCode: 201, retryable: false });
      expect(received).toEqual({ body: '{"a":1}', type: 'application/json' });
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
    const refused = await attemptDelivery({ url: new URL(`http://receiver.test:${port}/hook`), addresses, headers: {}, body: '{}', timeoutMs: 2000 });
    expect(refused).toEqual({ delivered: false, reason: 'could not reach the receiver (ECONNREFUSED)', retryable: true });
  });
});
