import { describe, expect, it } from 'vitest';
import { ApiKeyCache, type ApiKeyCacheOptions } from '../../lib/api/api-key-cache.js';
import { announceRevocationLocally } from '../../lib/api/api-key-revocations.js';
import { hashApiKey, type ApiKeyRecord } from '../../lib/api/api-keys.js';

// The cache on its own, with a counting lookup and a hand-driven clock; the Postgres and Redis
// paths are in api-key-revocation.test.ts.

const record = (id: string): ApiKeyRecord => ({
  id,
  name: id,
  prefix: 'hrld_xxxxxx',
  scopes: ['publish'],
  rateLimitPerMinute: null,
  createdAt: new Date(0).toISOString(),
  lastUsedAt: null,
  revokedAt: null,
});

function harness(options: Partial<ApiKeyCacheOptions> = {}, known: Record<string, string> = { hrld_good: 'key-1' }) {
  let now = 1_000_000;
  const byHash = new Map(Object.entries(known).map(([key, id]) => [hashApiKey(key), record(id)]));
  const lookups: string[] = [];
  let gate: Promise<void> | null = null;
  let inFlight = 0;
  let maxInFlight = 0;
  const cache = new ApiKeyCache({
    lookup: async (hash) => {
      lookups.push(hash);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        // The answer is read first, as Postgres would have answered before a revocation committed.
        const answer = byHash.get(hash) ?? null;
        if (gate) await gate;
        return answer;
      } finally {
        inFlight--;
      }
    },
    ttlMs: 30_000,
    negativeTtlMs: 5_000,
    maxEntries: 100,
    now: () => now,
    ...options,
  });
  return {
    cache,
    lookups,
    byHash,
    advance: (ms: number) => (now += ms),
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
    maxInFlight: () => maxInFlight,
  };
}

describe('ApiKeyCache', () => {
  it('asks Postgres once per key per TTL, and again after it', async () => {
    const h = harness();
    expect((await h.cache.verify('hrld_good'))?.id).toBe('key-1');
    expect((await h.cache.verify('hrld_good'))?.id).toBe('key-1');
    expect(h.lookups).toHaveLength(1);
    h.advance(29_999);
    await h.cache.verify('hrld_good');
    expect(h.lookups).toHaveLength(1);
    h.advance(2);
    await h.cache.verify('hrld_good');
    expect(h.lookups).toHaveLength(2);
    h.cache.close();
  });

  it('never looks up a key that cannot be one Herald issued', async () => {
    const h = harness();
    expect(await h.cache.verify('not-a-key')).toBeNull();
    expect(await h.cache.verify(`hrld_${'x'.repeat(300)}`)).toBeNull();
    expect(h.lookups).toHaveLength(0);
    h.cache.close();
  });

  it('concurrent first requests with one key share a single lookup', async () => {
    const h = harness();
    const release = h.hold();
    const results = Promise.all(Array.from({ length: 50 }, () => h.cache.verify('hrld_good')));
    release();
    expect((await results).every((r) => r?.id === 'key-1')).toBe(true);
    expect(h.lookups).toHaveLength(1);
    h.cache.close();
  });

  it('revoke(id) takes effect at once, and so does a revocation announced in this process', async () => {
    const h = harness({}, { hrld_one: 'key-1', hrld_two: 'key-2' });
    await h.cache.verify('hrld_one');
    await h.cache.verify('hrld_two');
    h.byHash.delete(hashApiKey('hrld_one'));
    h.byHash.delete(hashApiKey('hrld_two'));

    h.cache.revoke('key-1');
    expect(await h.cache.verify('hrld_one')).toBeNull();
    announceRevocationLocally('key-2');
    expect(await h.cache.verify('hrld_two')).toBeNull();
    h.cache.close();
  });

  it('a lookup that started before a revocation does not cache its (stale) answer', async () => {
    const h = harness();
    const release = h.hold();
    const racing = h.cache.verify('hrld_good');
    while (h.lookups.length === 0) await new Promise((r) => setImmediate(r));
    h.cache.revoke('key-1');
    h.byHash.clear();
    release();
    // The request that raced the revocation was already in flight; the next one asks again.
    expect((await racing)?.id).toBe('key-1');
    expect(await h.cache.verify('hrld_good')).toBeNull();
    expect(h.lookups).toHaveLength(2);
    h.cache.close();
  });

  it('remembers bad keys briefly, in a bounded map', async () => {
    const h = harness({ maxEntries: 10, negativeTtlMs: 5_000 });
    expect(await h.cache.verify('hrld_bad')).toBeNull();
    expect(await h.cache.verify('hrld_bad')).toBeNull();
    expect(h.lookups).toHaveLength(1);
    h.advance(5_001);
    await h.cache.verify('hrld_bad');
    expect(h.lookups).toHaveLength(2);

    for (let i = 0; i < 1_000; i++) await h.cache.verify(`hrld_flood_${i}`);
    expect(h.cache.size.refused).toBe(10);
    // A good key is not pushed out by the flood: verified and refused keys are bounded apart.
    await h.cache.verify('hrld_good');
    for (let i = 0; i < 100; i++) await h.cache.verify(`hrld_flood2_${i}`);
    const before = h.lookups.length;
    await h.cache.verify('hrld_good');
    expect(h.lookups.length).toBe(before);
    h.cache.close();
  });

  it('a flood of distinct bad keys reaches Postgres a few lookups at a time', async () => {
    const h = harness({ maxConcurrentLookups: 3 });
    const release = h.hold();
    const flood = Promise.all(Array.from({ length: 40 }, (_, i) => h.cache.verify(`hrld_flood_${i}`)));
    await new Promise((r) => setTimeout(r, 10));
    release();
    expect((await flood).every((r) => r === null)).toBe(true);
    expect(h.maxInFlight()).toBe(3);
    h.cache.close();
  });

  it('a lookup failure (Postgres down) is not cached', async () => {
    let fail = true;
    const cache = new ApiKeyCache({
      lookup: async () => {
        if (fail) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return record('key-1');
      },
      ttlMs: 30_000,
      negativeTtlMs: 5_000,
      maxEntries: 10,
    });
    await expect(cache.verify('hrld_good')).rejects.toThrow('ECONNREFUSED');
    fail = false;
    expect((await cache.verify('hrld_good'))?.id).toBe('key-1');
    cache.close();
  });

  it('TTL 0 turns caching off', async () => {
    const h = harness({ ttlMs: 0, negativeTtlMs: 0 });
    await h.cache.verify('hrld_good');
    await h.cache.verify('hrld_good');
    await h.cache.verify('hrld_bad');
    await h.cache.verify('hrld_bad');
    expect(h.lookups).toHaveLength(4);
    h.cache.close();
  });
});
