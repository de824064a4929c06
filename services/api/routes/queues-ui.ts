import { createHash, randomBytes } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { hasScope, verifyApiKey, type ApiKeyRecord } from '../../../lib/api/api-keys.js';
import { HttpError } from '../../../lib/api/http-errors.js';
import { retryQueueName } from '../../../lib/queues/retry-queue.js';
import type { RouteDeps } from '../server.js';

export const queuesUiPath = '/admin/queues';
const cookieName = 'herald_admin';
const sessionTtlSeconds = 8 * 3_600;
const sessionKey = (token: string) => `herald:admin-session:${createHash('sha256').update(token).digest('hex')}`;

/**
 * bull-board for the retry queue under `/admin/queues`, admin scope only.
 *
 * Auth, either:
 * - `Authorization: Bearer <admin key>` on every request (scripts, curl), or
 * - a browser session: `POST /admin/queues/session` with `Authorization: Bearer <admin key>`
 *   sets the cookie `herald_admin` (HttpOnly, SameSite=Strict, Path=/admin/queues, Secure
 *   over HTTPS, 8 h). The cookie holds a random session token, never the key; Redis keeps
 *   sha256(token) → key id, and every request re-checks that key is still active and admin,
 *   so revoking the key ends the session. `DELETE /admin/queues/session` signs out.
 *   SameSite=Strict keeps other sites from riding the cookie on bull-board's POST actions.
 * The monitoring page (`/`) signs in this way when its "Queues" link is clicked.
 */
export const queuesUiRoutes: FastifyPluginAsync<RouteDeps> = async (app, { ctx }) => {
  const queue = new Queue(retryQueueName, { connection: { url: ctx.config.REDIS_URL, maxRetriesPerRequest: null } });
  queue.on('error', (error) => ctx.logger.warn({ err: error }, 'bull-board queue connection error'));
  app.addHook('onClose', async () => {
    await queue.close().catch(() => {});
  });

  const loadKeyById = async (id: string): Promise<ApiKeyRecord | null> => {
    const { rows } = await ctx.pool.query(
      `SELECT id, name, prefix, scopes, rate_limit_per_minute, created_at, last_used_at, revoked_at FROM api_keys WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      scopes: row.scopes ?? [],
      rateLimitPerMinute: row.rate_limit_per_minute ?? null,
      createdAt: new Date(row.created_at).toISOString(),
      lastUsedAt: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
      revokedAt: null,
    };
  };

  const bearerKey = async (request: FastifyRequest): Promise<ApiKeyRecord | null | undefined> => {
    const header = request.headers.authorization;
    if (typeof header !== 'string') return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return null;
    return verifyApiKey(ctx.pool, match[1]!);
  };

  const cookieToken = (request: FastifyRequest): string | null => {
    const header = request.headers.cookie;
    if (typeof header !== 'string') return null;
    for (const part of header.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === cookieName) {
        const value = rest.join('=');
        return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : null;
      }
    }
    return null;
  };

  const requireAdmin = async (request: FastifyRequest): Promise<void> => {
    let key = await bearerKey(request);
    if (key === undefined) {
      const token = cookieToken(request);
      const keyId = token ? await ctx.redis.get(sessionKey(token)).catch(() => null) : null;
      key = keyId ? await loadKeyById(keyId) : null;
      if (!key) {
        throw new HttpError('unauthorized', 'Sign in from the monitoring page (/) or send Authorization: Bearer <admin key>', undefined, {
          'www-authenticate': 'Bearer',
        });
      }
    }
    if (!key) throw new HttpError('unauthorized', 'The API key is unknown or revoked', undefined, { 'www-authenticate': 'Bearer' });
    request.apiKey = key;
    if (!hasScope(key.scopes, 'admin') || !key.scopes.includes('admin')) throw new HttpError('forbidden', 'The queue UI needs the "admin" scope');
  };

  const cookie = (request: FastifyRequest, value: string, maxAge: number) => {
    const secure = request.protocol === 'https' ? '; Secure' : '';
    return `${cookieName}=${value}; Path=${queuesUiPath}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
  };

  // Sign in / out: Bearer only (a cookie cannot create a session).
  app.post(`${queuesUiPath}/session`, { schema: { hide: true } }, async (request, reply: FastifyReply) => {
    const key = await bearerKey(request);
    if (!key) throw new HttpError('unauthorized', 'Send Authorization: Bearer <admin key>', undefined, { 'www-authenticate': 'Bearer' });
    request.apiKey = key;
    if (!key.scopes.includes('admin')) throw new HttpError('forbidden', 'The queue UI needs the "admin" scope');
    const token = randomBytes(32).toString('base64url');
    await ctx.redis.set(sessionKey(token), key.id, 'EX', sessionTtlSeconds);
    reply.header('set-cookie', cookie(request, token, sessionTtlSeconds)).header('cache-control', 'no-store');
    return { ok: true, path: `${queuesUiPath}/`, expiresInSeconds: sessionTtlSeconds };
  });
  app.delete(`${queuesUiPath}/session`, { schema: { hide: true } }, async (request, reply) => {
    const token = cookieToken(request);
    if (token) await ctx.redis.del(sessionKey(token)).catch(() => 0);
    return reply.header('set-cookie', cookie(request, '', 0)).code(204).send();
  });

  await app.register(async (board) => {
    // bull-board installs its own error handler here, so refusals are sent directly in the API's error shape.
    board.addHook('onRequest', async (request, reply) => {
      try {
        await requireAdmin(request);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        return reply.code(error.statusCode).headers(error.headers).header('herald-error-code', error.code).send(error.body());
      }
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(queuesUiPath);
    createBullBoard({
      queues: [new BullMQAdapter(queue)],
      serverAdapter,
      options: { uiConfig: { boardTitle: 'Herald queues' } },
    });
    await board.register(serverAdapter.registerPlugin(), { prefix: queuesUiPath });
  });
};
