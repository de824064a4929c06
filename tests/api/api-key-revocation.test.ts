import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { createApiKeyCache } from '../../lib/api/api-key-cache.js';
import { revokeApiKey } from '../../lib/api/api-keys.js';
import { buildServer } from '../../services/api/server.js';
import { testContext } from '../support/harness.js';
import { inject, TestKeys } from './api-support.js';

// Verified keys are cached (API_KEY_CACHE_TTL_MS); these tests pin down how a revocation
// still takes effect: at once in the revoking process, at once elsewhere through Redis, and
// within the TTL when the Redis message never arrives.

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const run = promisify(execFile);

let ctx: AppContext;
let keys: TestKeys;
const apps: FastifyInstance[] = [];

async function server(apiConfig: Record<string, number> = {}): Promise<FastifyInstance> {
  const app = await buildServer(ctx, { apiConfig });
  apps.push(app);
  await app.apiKeys.revocations.whenSubscribed();
  return app;
}

async function status(app: FastifyInstance, auth: Record<string, string>): Promise<number> {
  return (await inject(app, 'GET', '/v1/events?limit=1', auth)).status;
}

/** Polls until `app` refuses the key; resolves with how long that took. */
async function msUntilRefused(app: FastifyInstance, auth: Record<string, string>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if ((await status(app, auth)) === 401) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the key was still accepted after ${timeoutMs} ms`);
}

beforeAll(async () => {
  ctx = testContext();
  keys = new TestKeys(ctx);
});
afterAll(async () => {
  await keys.cleanup();
  for (const app of apps) await app.close();
  await ctx.close();
});

describe('API-key cache and revocation', () => {
  it('a verified key is served from memory: no Postgres lookup per request', async () => {
    const cache = createApiKeyCache(ctx.pool, { API_KEY_CACHE_TTL_MS: 30_000, API_KEY_NEGATIVE_CACHE_TTL_MS: 5_000, API_KEY_CACHE_MAX_ENTRIES: 100 });
    const key = await keys.create(['read']);
    let queries = 0;
    const query = ctx.pool.query.bind(ctx.pool);
    (ctx.pool as { query: unknown }).query = (...args: Parameters<typeof query>) => {
      queries++;
      return query(...args);
    };
    try {
      for (let i = 0; i < 20; i++) expect((await cache.verify(key.key))?.id).toBe(key.id);
    } finally {
      (ctx.pool as { query: unknown }).query = query;
      cache.close();
    }
    // One SELECT, plus the last_used_at bookkeeping write.
    expect(queries).toBeLessThanOrEqual(2);
  });

  it('revoked in this process: refused by the very next request', async () => {
    const app = await server();
    const key = await keys.create(['read']);
    expect(await status(app, key.auth)).toBe(200);
    expect(await revokeApiKey(ctx.pool, key.id)).toBe(true);
    expect(await status(app, key.auth)).toBe(401);
  });

  it('revoked by another process (the keys CLI): refused as soon as its Redis message arrives, long before the TTL', async () => {
    const app = await server({ API_KEY_CACHE_TTL_MS: 60_000 });
    // A cache that hears nothing from Redis, to show that the server's refusal is the message's doing.
    const deaf = createApiKeyCache(ctx.pool, { API_KEY_CACHE_TTL_MS: 60_000, API_KEY_NEGATIVE_CACHE_TTL_MS: 5_000, API_KEY_CACHE_MAX_ENTRIES: 100 });
    const key = await keys.create(['read']);
    expect(await status(app, key.auth)).toBe(200);
    expect((await deaf.verify(key.key))?.id).toBe(key.id);

    const { stdout } = await run('npx', ['tsx', 'scripts/keys.ts', 'revoke', key.id], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: ctx.config.DATABASE_URL, REDIS_URL: ctx.config.REDIS_URL },
    });
    expect(stdout).toContain(`revoked ${key.id}`);

    expect(await msUntilRefused(app, key.auth, 5_000)).toBeLessThan(5_000);
    expect((await deaf.verify(key.key))?.id).toBe(key.id);
    deaf.close();
  }, 60_000);

  it('revoked elsewhere and the Redis message lost: refused once the cached entry expires', async () => {
    const ttlMs = 1_500;
    const app = await server({ API_KEY_CACHE_TTL_MS: ttlMs });
    const key = await keys.create(['read']);
    expect(await status(app, key.auth)).toBe(200);
    // What another process's revoke does, without any message reaching this one.
    await ctx.pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
    const revokedAt = Date.now();
    expect(await status(app, key.auth)).toBe(200);
    await msUntilRefused(app, key.auth, ttlMs + 3_000);
    expect(Date.now() - revokedAt).toBeLessThan(ttlMs + 1_000);
  });

  it('an unknown key is refused, and a flood of them stays bounded in memory', async () => {
    const app = await server({ API_KEY_CACHE_MAX_ENTRIES: 50 });
    for (let i = 0; i < 200; i++) {
      expect(await status(app, { authorization: `Bearer hrld_unknown_${i}` })).toBe(401);
    }
    expect(app.apiKeys.cache.size.refused).toBe(50);
  });
});
