import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../lib/app-context.js';
import { createApiKeyCache, type ApiKeyCache } from '../../lib/api/api-key-cache.js';
import { ApiKeyRevocationSubscriber } from '../../lib/api/api-key-revocations.js';
import { hasScope, type ApiKeyRecord, type ApiScope } from '../../lib/api/api-keys.js';
import { HttpError } from '../../lib/api/http-errors.js';
import { createRedis } from '../../lib/redis.js';
import type { ApiConfig } from './api-config.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord | null;
  }
  interface FastifyInstance {
    /** The server's key cache and the Redis subscription that invalidates it. */
    apiKeys: ApiKeyAuth;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one (health, metrics, docs) need no key. */
    scope?: ApiScope;
  }
}

export interface ApiKeyAuth {
  cache: ApiKeyCache;
  revocations: ApiKeyRevocationSubscriber;
}

/** `Authorization: Bearer <key>` on every route that declares a scope: 401 without a valid key, 403 without the scope. */
export function registerAuth(app: FastifyInstance, ctx: AppContext, apiConfig: ApiConfig): ApiKeyAuth {
  const cache = createApiKeyCache(ctx.pool, apiConfig);
  // Its own connection: a subscribed Redis connection can do nothing else.
  const revocations = new ApiKeyRevocationSubscriber(
    () => createRedis(ctx.config.REDIS_URL, { autoResubscribe: false }),
    (keyId) => (keyId === null ? cache.clear() : cache.revoke(keyId)),
    ctx.logger,
  );
  revocations.start();
  const auth = { cache, revocations };
  app.decorate('apiKeys', auth);
  app.addHook('onClose', async () => {
    revocations.close();
    cache.close();
  });

  app.decorateRequest('apiKey', null);
  // Attached to each route that declares a scope when it is defined, rather than one global
  // hook asking every request for its route's config (request.routeOptions builds an object).
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope;
    if (!scope) return;
    const hook = authenticate(cache, scope);
    route.onRequest = route.onRequest ? [hook, ...(Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest])] : [hook];
  });
  return auth;
}

function authenticate(cache: ApiKeyCache, scope: ApiScope) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new HttpError('unauthorized', 'Send Authorization: Bearer <key>', undefined, { 'www-authenticate': 'Bearer' });
    const key = await cache.verify(match[1]!);
    if (!key) throw new HttpError('unauthorized', 'The API key is unknown or revoked', undefined, { 'www-authenticate': 'Bearer' });
    request.apiKey = key;
    if (!hasScope(key.scopes, scope)) throw new HttpError('forbidden', `This route needs the "${scope}" scope`);
  };
}
