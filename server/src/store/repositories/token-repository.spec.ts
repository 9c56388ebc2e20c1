import { randomUUID } from 'node:crypto';

import { describeStore, rejection } from '../store-spec-support';

describeStore('token repository', (fx) => {
  // ---- tokens

  it('stores tokens by hash and revokes them idempotently', async () => {
    const hash = `sha256-${randomUUID()}`;
    const token = await fx.store.insertToken({ id: randomUUID(), name: 'analytics', tokenHash: hash, scope: 'read', webhookUrl: 'https://hooks.example/jobs' });
    expect(token).toMatchObject({ name: 'analytics', tokenHash: hash, scope: 'read', webhookUrl: 'https://hooks.example/jobs' });
    expect(token.revokedAt).toBeUndefined();
    expect(await fx.store.tokenByHash(hash)).toEqual(token);
    expect(await fx.store.tokenByHash('no-such-hash')).toBeUndefined();
    expect((await fx.store.listTokens()).map((t) => t.id)).toContain(token.id);

    const revoked = await fx.store.revokeToken(token.id);
    expect(revoked?.revokedAt).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await fx.store.revokeToken(token.id))?.revokedAt).toBe(revoked?.revokedAt);
    expect((await fx.store.tokenByHash(hash))?.revokedAt).toBe(revoked?.revokedAt);
    expect(await fx.store.revokeToken('no-such-token')).toBeUndefined();
    expect((await rejection(fx.store.insertToken({ id: randomUUID(), name: 'dup', tokenHash: hash, scope: 'admin' }))).code).toBe('CONFLICT');
  });
});
