import { randomUUID } from 'node:crypto';

import { describeStore, rejection } from '../store-spec-support';

describeStore('webhook delivery repository', (fx) => {
  async function newToken(name: string) {
    return fx.store.insertToken({ id: randomUUID(), name, tokenHash: `sha256-${randomUUID()}`, scope: 'read', webhookUrl: 'https://hooks.example/jobs' });
  }

  it('records a delivery as PENDING and follows it attempt by attempt to its end', async () => {
    const token = await newToken('crm');
    const jobId = randomUUID();
    const made = await fx.store.insertWebhookDelivery({ id: randomUUID(), tokenId: token.id, jobId, event: 'job.finished', url: 'https://hooks.example/jobs' });
    expect(made).toMatchObject({ tokenId: token.id, jobId, event: 'job.finished', url: 'https://hooks.example/jobs', attempts: 0, status: 'PENDING' });
    expect(made.statusCode).toBeUndefined();
    expect(made.reason).toBeUndefined();
    expect(made.finishedAt).toBeUndefined();

    const retrying = await fx.store.updateWebhookDelivery(made.id, { attempts: 1, statusCode: 503, reason: 'the receiver answered 503' });
    expect(retrying).toMatchObject({ attempts: 1, status: 'PENDING', statusCode: 503, reason: 'the receiver answered 503' });
    expect(retrying!.finishedAt).toBeUndefined();
    expect(retrying!.updatedAt >= made.updatedAt).toBe(true);

    const done = await fx.store.updateWebhookDelivery(made.id, { attempts: 2, status: 'DELIVERED', statusCode: 200, reason: null, finished: true });
    expect(done).toMatchObject({ attempts: 2, status: 'DELIVERED', statusCode: 200 });
    expect(done!.reason).toBeUndefined();
    expect(done!.finishedAt).toBeDefined();
    expect(await fx.store.getWebhookDelivery(made.id)).toEqual(done);
    expect(await fx.store.updateWebhookDelivery('no-such-delivery', { attempts: 1 })).toBeUndefined();
  });

  it('lists PENDING deliveries untouched since an instant, and lets one process claim each', async () => {
    const token = await newToken('claims');
    const insert = () =>
      fx.store.insertWebhookDelivery({ id: randomUUID(), tokenId: token.id, jobId: randomUUID(), event: 'job.finished', url: 'https://hooks.example/jobs' });
    const before = new Date(Date.now() - 1).toISOString();
    const [first, second, done] = [await insert(), await insert(), await insert()];
    await fx.store.updateWebhookDelivery(done.id, { attempts: 1, status: 'DELIVERED', finished: true });
    await new Promise((resolve) => setTimeout(resolve, 5)); // later updates get a later instant
    const cutoff = new Date().toISOString();
    expect(await fx.store.stalePendingWebhookDeliveries(before, 10)).toEqual([]);
    const stale = await fx.store.stalePendingWebhookDeliveries(cutoff, 10);
    expect(stale.map((d) => d.id).sort()).toEqual([first.id, second.id].sort());
    expect(await fx.store.stalePendingWebhookDeliveries(cutoff, 1)).toHaveLength(1);

    const claimed = await fx.store.claimWebhookDelivery(first.id, first.updatedAt);
    expect(claimed).toMatchObject({ id: first.id, status: 'PENDING', attempts: 0 });
    expect(claimed!.updatedAt > first.updatedAt).toBe(true);
    // A second process that saw the same record, a record touched since, a finished one: nothing.
    expect(await fx.store.claimWebhookDelivery(first.id, first.updatedAt)).toBeUndefined();
    await fx.store.updateWebhookDelivery(second.id, {});
    expect(await fx.store.claimWebhookDelivery(second.id, second.updatedAt)).toBeUndefined();
    expect(await fx.store.claimWebhookDelivery(done.id, (await fx.store.getWebhookDelivery(done.id))!.updatedAt)).toBeUndefined();
    expect(await fx.store.stalePendingWebhookDeliveries(cutoff, 10)).toEqual([]);
  });

  it('refuses a delivery for a token that does not exist', async () => {
    const error = await rejection(
      fx.store.insertWebhookDelivery({ id: randomUUID(), tokenId: 'no-such-token', jobId: 'j', event: 'job.finished', url: 'https://x.example/' }),
    );
    expect(error.code).toBe('NOT_FOUND');
  });

  it('lists newest first in pages, narrowed to a token or a job', async () => {
    const a = await newToken('a');
    const b = await newToken('b');
    const jobs = [randomUUID(), randomUUID(), randomUUID()];
    const made = [];
    for (const jobId of jobs) {
      for (const token of [a, b]) {
        made.push(
          await fx.store.insertWebhookDelivery({ id: randomUUID(), tokenId: token.id, jobId, event: 'job.finished', url: 'https://hooks.example/jobs' }),
        );
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    const ofA = made.filter((d) => d.tokenId === a.id).reverse();
    const first = await fx.store.listWebhookDeliveries({ tokenId: a.id }, 2);
    expect(first.items.map((d) => d.id)).toEqual(ofA.slice(0, 2).map((d) => d.id));
    expect(first).toMatchObject({ hasNextPage: true, totalCount: 3 });
    const second = await fx.store.listWebhookDeliveries({ tokenId: a.id }, 2, first.endCursor);
    expect(second.items.map((d) => d.id)).toEqual([ofA[2].id]);
    expect(second.hasNextPage).toBe(false);

    const ofJob = await fx.store.listWebhookDeliveries({ jobId: jobs[1] }, 10);
    expect(ofJob.items.map((d) => d.tokenId).sort()).toEqual([a.id, b.id].sort());
    expect((await fx.store.listWebhookDeliveries({ tokenId: b.id, jobId: jobs[2] }, 10)).items).toHaveLength(1);
    expect((await rejection(fx.store.listWebhookDeliveries({}, 2, 'not-a-cursor'))).code).toBe('INVALID_ARGUMENT');
  });
});
