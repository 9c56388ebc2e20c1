import { TurnPageCache, turnPageKey } from './turn-page-cache';

describe('TurnPageCache', () => {
  const page = (n: number) => ({ items: [{ id: `t${n}`, meetingId: 'm', speakerId: 's', startSec: n, endSec: n + 1 }], hasNextPage: false });

  it('loads once per key and again when the meeting changed', async () => {
    const cache = new TurnPageCache();
    let loads = 0;
    const load = async () => page(++loads);
    const before = turnPageKey('m', '2026-01-01T00:00:00.000Z', { first: 500 });
    expect((await cache.get(before, load)).items[0].id).toBe('t1');
    expect((await cache.get(before, load)).items[0].id).toBe('t1');
    const after = turnPageKey('m', '2026-01-01T00:00:01.000Z', { first: 500 });
    expect((await cache.get(after, load)).items[0].id).toBe('t2');
    expect(loads).toBe(2);
  });

  it('forgets a failed load, so the next request retries', async () => {
    const cache = new TurnPageCache();
    await expect(cache.get('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect((await cache.get('k', async () => page(7))).items[0].id).toBe('t7');
  });

  it('keys differ by every page argument', () => {
    const keys = new Set([
      turnPageKey('m', 'u', {}),
      turnPageKey('m', 'u', { first: 500 }),
      turnPageKey('m', 'u', { first: 500, after: 'c' }),
      turnPageKey('m', 'u', { from: 1 }),
      turnPageKey('m', 'u', { to: 1 }),
    ]);
    expect(keys.size).toBe(5);
  });
});
