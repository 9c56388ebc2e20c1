/** Deliveries a stopped process left PENDING: resumed, failed with the reason, or left to the process that is delivering them. */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describeStore } from '../store/store-spec-support';
import { WebhookNotifier } from './webhooks';

const OPTIONS = { allowPrivate: true, maxAttempts: 3, backoffMs: 1000, timeoutMs: 5000 };

describeStore('webhook resume', (fx) => {
  afterEach(() => jest.restoreAllMocks());

  const newToken = (webhookUrl: string) =>
    fx.store.insertToken({
      id: randomUUID(),
      name: `hook-${randomUUID()}`,
      tokenHash: `sha256-${randomUUID()}`,
      scope: 'read',
      webhookUrl,
      webhookSecret: 'secret',
    });

  async function pendingDelivery(options: { attempts: number; revoked?: boolean }) {
    const token = await newToken('https://hooks.example/jobs');
    if (options.revoked) await fx.store.revokeToken(token.id);
    const made = await fx.store.insertWebhookDelivery({
      id: randomUUID(),
      tokenId: token.id,
      jobId: randomUUID(),
      event: 'job.finished',
      url: 'https://hooks.example/jobs',
    });
    if (options.attempts === 0) return made;
    return (await fx.store.updateWebhookDelivery(made.id, { attempts: options.attempts, statusCode: 503, reason: 'the receiver answered 503' }))!;
  }

  async function finished(id: string) {
    for (let i = 0; i < 100; i++) {
      const record = await fx.store.getWebhookDelivery(id);
      if (record?.finishedAt) return record;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`delivery ${id} did not finish`);
  }

  it('alone on the database: fails what cannot go on, with the reason, and leaves records of the running process alone', async () => {
    const exhausted = await pendingDelivery({ attempts: 3 });
    const revoked = await pendingDelivery({ attempts: 1, revoked: true });
    const jobGone = await pendingDelivery({ attempts: 2 }); // its job id names no job
    await new Promise((resolve) => setTimeout(resolve, 5)); // the records above are from before it
    const logs: string[] = [];
    const notifier = new WebhookNotifier(fx.store, (line) => logs.push(line), OPTIONS);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const ownRecord = await pendingDelivery({ attempts: 1 }); // written after the notifier was made: this process's
    try {
      expect(await notifier.start({ shared: false })).toBe(3);
      const stopped = (n: number) => `the server stopped while delivering, after ${n} of 3 attempts; `;
      expect(await finished(exhausted.id)).toMatchObject({
        status: 'FAILED',
        attempts: 3,
        statusCode: 503,
        reason: `${stopped(3)}none was left to resume (WEBHOOK_MAX_ATTEMPTS)`,
      });
      expect(await finished(revoked.id)).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        reason: `${stopped(1)}its token has been revoked since, so it was not resumed`,
      });
      expect(await finished(jobGone.id)).toMatchObject({
        status: 'FAILED',
        attempts: 2,
        reason: `${stopped(2)}its job has been deleted or restarted since, so it was not resumed`,
      });
      expect(await fx.store.getWebhookDelivery(ownRecord.id)).toEqual(ownRecord);
      // Once is enough: a second pass finds nothing.
      expect(await notifier.start({ shared: false })).toBe(0);
    } finally {
      await notifier.close();
      await fx.store.updateWebhookDelivery(ownRecord.id, { status: 'DELIVERED', finished: true });
    }
  });

  it('with a shared queue: takes only records untouched for staleAfterMs, each in one process', async () => {
    const record = await pendingDelivery({ attempts: 3 });
    const [a, b] = [new WebhookNotifier(fx.store, () => undefined, OPTIONS), new WebhookNotifier(fx.store, () => undefined, OPTIONS)];
    try {
      // Recent: another process may still be delivering it.
      expect(await a.start({ shared: true })).toBe(0);
      expect((await fx.store.getWebhookDelivery(record.id))!.status).toBe('PENDING');
      // Later than staleAfterMs: both see it, only one takes it.
      const later = Date.now() + a.staleAfterMs + 1000;
      jest.spyOn(Date, 'now').mockReturnValue(later);
      const taken = await Promise.all([a.start({ shared: true }), b.start({ shared: true })]);
      expect(taken.sort()).toEqual([0, 1]);
      expect(await finished(record.id)).toMatchObject({ status: 'FAILED', attempts: 3 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('on close leaves deliveries with attempts left PENDING, and the next start goes on with them', async () => {
    // The first request to each receiver: 503 / never answered; from then on 200.
    const seen = { failing: 0, hanging: 0 };
    const failing = createServer((_req, res) => res.writeHead(seen.failing++ === 0 ? 503 : 200).end());
    const hanging = createServer((_req, res) => void (seen.hanging++ > 0 && res.writeHead(200).end()));
    for (const server of [failing, hanging]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = (server: typeof failing) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const [backingOff, cut] = [await newToken(url(failing)), await newToken(url(hanging))];
    const meeting = await fx.newMeeting();
    const job = await fx.store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId: meeting.id });
    await fx.store.updateJob(job.id, { state: 'CANCELLED' });
    const options = { ...OPTIONS, maxAttempts: 3, backoffMs: 60_000, timeoutMs: 30_000 };
    const ofToken = async (tokenId: string) => (await fx.store.listWebhookDeliveries({ tokenId, jobId: job.id }, 1)).items[0];
    const stopping = new WebhookNotifier(fx.store, () => undefined, options);
    let next: WebhookNotifier | undefined;
    try {
      stopping.notify({ jobId: job.id, meetingId: meeting.id, state: 'CANCELLED', progress: 0 });
      for (let i = 0; i < 200 && !((await ofToken(backingOff.id))?.attempts === 1 && seen.hanging === 1); i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      // One waits out its minute of backoff, the other's first attempt is still open.
      await stopping.close();
      expect(await ofToken(backingOff.id)).toMatchObject({
        status: 'PENDING',
        attempts: 1,
        statusCode: 503,
        reason: 'the receiver answered 503 (attempt 1 of 3); the server stopped before the next attempt, the remaining ones go on when it starts again',
      });
      // An attempt cut short is not counted, as when the process is killed.
      expect(await ofToken(cut.id)).toMatchObject({
        status: 'PENDING',
        attempts: 0,
        reason: 'the server stopped during attempt 1 of 3; it is made again when the server starts',
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      next = new WebhookNotifier(fx.store, () => undefined, options);
      expect(await next.start({ shared: false })).toBeGreaterThanOrEqual(2);
      expect(await finished((await ofToken(backingOff.id))!.id)).toMatchObject({ status: 'DELIVERED', attempts: 2, statusCode: 200 });
      expect(await finished((await ofToken(cut.id))!.id)).toMatchObject({ status: 'DELIVERED', attempts: 1, statusCode: 200 });
      expect(seen).toEqual({ failing: 2, hanging: 2 });
    } finally {
      await stopping.close();
      await next?.close();
      // What the other tests' tokens were sent for this job stays PENDING too: ended here, so no later start takes it.
      for (const d of (await fx.store.listWebhookDeliveries({ jobId: job.id }, 100)).items)
        if (d.status === 'PENDING') await fx.store.updateWebhookDelivery(d.id, { status: 'FAILED', finished: true });
      for (const token of [backingOff, cut]) await fx.store.revokeToken(token.id);
      for (const server of [failing, hanging]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it('touches a delivery that waits out a long backoff, so that another process sharing the queue leaves it alone', async () => {
    const receiver = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const token = await newToken(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
    const options = { ...OPTIONS, maxAttempts: 2, backoffMs: 60_000, timeoutMs: 200, heartbeatMs: 100 };
    const [delivering, other] = [new WebhookNotifier(fx.store, () => undefined, options), new WebhookNotifier(fx.store, () => undefined, options)];
    const ofToken = async () => (await fx.store.listWebhookDeliveries({ tokenId: token.id }, 1)).items[0];
    try {
      delivering.notify({ jobId: randomUUID(), meetingId: randomUUID(), state: 'CANCELLED', progress: 0 });
      let first;
      for (let i = 0; i < 100 && first?.attempts !== 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        first = await ofToken();
      }
      expect(first).toMatchObject({ status: 'PENDING', attempts: 1, statusCode: 503 });
      // staleAfterMs (2 heartbeats + the attempt timeout = 400 ms) passes during the minute of backoff.
      await new Promise((resolve) => setTimeout(resolve, 2 * other.staleAfterMs));
      expect(await other.start({ shared: true })).toBe(0);
      const later = await ofToken();
      expect(later).toMatchObject({ status: 'PENDING', attempts: 1 });
      expect(later!.updatedAt > first!.updatedAt).toBe(true);
    } finally {
      await Promise.all([delivering.close(), other.close()]);
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
