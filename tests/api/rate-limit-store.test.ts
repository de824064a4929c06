import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiKeyRecord } from '../../lib/api/api-keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { CoalescingRedisStore } from '../../lib/api/rate-limit-store.js';
import { createRedis, type Redis } from '../../lib/redis.js';
import { registerRateLimit } from '../../services/api/rate-limit.js';
import { buildServer } from '../../services/api/server.js';
import { testContext } from '../support/harness.js';
import { inject, TestKeys } from './api-support.js';

let ctx: AppContext;
let redis: Redis;
let app: FastifyInstance;
let keys: TestKeys;
const prefix = `herald-test:rate-limit:${randomUUID().slice(0, 8)}:`;

beforeAll(async () => {
  ctx = testContext();
  redis = createRedis(ctx.config.REDIS_URL);
  app = await buildServer(ctx);
  keys = new TestKeys(ctx);
});
afterAll(async () => {
  const left = await redis.keys(`${prefix}*`);
  if (left.length) await redis.del(...left);
  redis.disconnect();
  await keys.cleanup();
  await app.close();
  await ctx.close();
});

function incr(store: CoalescingRedisStore, key: string, windowMs = 60_000): Promise<{ current: number; ttl: number }> {
  return new Promise((resolve, reject) => store.incr(key, (error, result) => (error ? reject(error) : resolve(result!)), windowMs));
}

/** Counts the increment commands sent on `redis` from now on (the store defines the command on it). */
function countCommands(): () => number {
  const command = redis as unknown as { heraldRateLimitIncrBy: (...args: unknown[]) => Promise<unknown> };
  const original = command.heraldRateLimitIncrBy.bind(redis);
  let calls = 0;
  command.heraldRateLimitIncrBy = (...args: unknown[]) => {
    calls++;
    return original(...args);
  };
  return () => calls;
}

describe('rate limiting: CoalescingRedisStore and the API hook', () => {
  it('counts a burst of one key with one command, giving each request the count a per-request store would', async () => {
    const store = new CoalescingRedisStore(redis, prefix);
    const calls = countCommands();
    const burst = await Promise.all(Array.from({ length: 25 }, () => incr(store, 'burst')));
    expect(burst.map((r) => r.current)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(calls()).toBe(1);
    for (const r of burst) expect(r.ttl).toBeGreaterThan(59_000);

    const next = await Promise.all([incr(store, 'burst'), incr(store, 'other')]);
    expect(next.map((r) => r.current)).toEqual([26, 1]);
    expect(Number(await redis.get(`${prefix}burst`))).toBe(26);
    const ttl = await redis.pttl(`${prefix}burst`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('reports a Redis failure to every waiting request', async () => {
    const down = createRedis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    const store = new CoalescingRedisStore(down, prefix);
    const results = await Promise.allSettled([incr(store, 'x'), incr(store, 'x')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    down.disconnect();
  });

  it('through the API: concurrent requests past a key’s limit get exactly the excess 429s', async () => {
    const limited = await keys.create(['read'], 3);
    const statuses = await Promise.all(Array.from({ length: 7 }, () => inject(app, 'GET', '/v1/events?limit=1', limited.auth).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
  });

  it('through the API: every keyed response says the limit, what is left and when the window resets', async () => {
    const limited = await keys.create(['read'], 2);
    const first = await inject(app, 'GET', '/v1/events?limit=1', limited.auth);
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-limit']).toBe('2');
    expect(first.headers['x-ratelimit-remaining']).toBe('1');
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    expect(Number(first.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(60);
    await inject(app, 'GET', '/v1/events?limit=1', limited.auth);
    const refused = await inject(app, 'GET', '/v1/events?limit=1', limited.auth);
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.message).toMatch(/^Rate limit of 2 requests per minute exceeded; retry in \d+ s$/);
    const unkeyed = await inject(app, 'GET', '/health/live');
    expect(unkeyed.status).toBe(200);
    expect(unkeyed.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('through the API: while Redis is away, keyed requests are served rather than refused', async () => {
    const away = testContext({ REDIS_URL: 'redis://127.0.0.1:1' });
    const awayApp = await buildServer(away);
    try {
      const key = await keys.create(['read'], 1);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await inject(awayApp, 'GET', '/v1/events?limit=1', key.auth)).status);
      expect(statuses).toEqual([200, 200, 200]);
    } finally {
      await awayApp.close();
      await away.close();
    }
  });

  it('the hook tells its owner about each request it let through uncounted', async () => {
    const down = createRedis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    const failures: Error[] = [];
    const bare = Fastify();
    bare.decorateRequest('apiKey', null);
    bare.addHook('onRequest', async (request) => {
      request.apiKey = { id: 'k1', rateLimitPerMinute: 1 } as ApiKeyRecord;
    });
    registerRateLimit(bare, { store: new CoalescingRedisStore(down, prefix), defaultMax: 1, onStoreError: (error) => failures.push(error) });
    bare.get('/', async () => ({ ok: true }));
    try {
      const statuses = [];
      for (let i = 0; i < 2; i++) statuses.push((await bare.inject({ method: 'GET', url: '/' })).statusCode);
      expect(statuses).toEqual([200, 200]);
      expect(failures).toHaveLength(2);
    } finally {
      await bare.close();
      down.disconnect();
    }
  });
});
