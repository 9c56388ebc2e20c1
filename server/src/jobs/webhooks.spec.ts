/** Deliveries a stopped process left PENDING: resumed, failed with the reason, or left to the process that is delivering them. */
import { randomUUID } from 'node:crypto';

import { describeStore } from '../store/store-spec-support';
import { WebhookNotifier } from './webhooks';

const OPTIONS = { allowPrivate: true, maxAttempts: 3, backoffMs: 1000, timeoutMs: 5000 };

describeStore('webhook resume', (fx) => {
  afterEach(() => jest.restoreAllMocks());

  async function pendingDelivery(options: { attempts: number; revoked?: boolean }) {
    const token = await fx.store.insertToken({
      id: randomUUID(),
      name: `hook-${randomUUID()}`,
      tokenHash: `sha256-${randomUUID()}`,
      scope: 'read',
      webhookUrl: 'https://hooks.example/jobs',
      webhookSecret: 'secret',
    });
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
});
