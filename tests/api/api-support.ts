import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../lib/app-context.js';
import { createApiKey, type ApiScope } from '../../lib/api/api-keys.js';

/** Keys created by a test file, removed in afterAll. */
export class TestKeys {
  readonly ids: string[] = [];
  constructor(private readonly ctx: AppContext) {}

  async create(scopes: ApiScope[], rateLimitPerMinute?: number): Promise<{ id: string; key: string; auth: { authorization: string } }> {
    const { key, record } = await createApiKey(this.ctx.pool, { name: `test-${scopes.join('-')}`, scopes, rateLimitPerMinute });
    this.ids.push(record.id);
    return { id: record.id, key, auth: { authorization: `Bearer ${key}` } };
  }

  async cleanup(): Promise<void> {
    await this.ctx.pool.query('DELETE FROM api_keys WHERE id = ANY($1::uuid[])', [this.ids]);
    for (const id of this.ids) {
      const keys = await this.ctx.redis.keys(`herald:rate-limit:${id}*`).catch(() => [] as string[]);
      if (keys.length) await this.ctx.redis.del(...keys);
    }
  }
}

export async function inject(app: FastifyInstance, method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) {
  const response = await app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  let body: any = null;
  try {
    body = response.body ? JSON.parse(response.body) : null;
  } catch {
    body = response.body;
  }
  return { status: response.statusCode, headers: response.headers, body };
}
