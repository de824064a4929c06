import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../lib/app-context.js';
import { hasScope, verifyApiKey, type ApiKeyRecord, type ApiScope } from '../../lib/api/api-keys.js';
import { HttpError } from '../../lib/api/http-errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord | null;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one (health, metrics, docs) need no key. */
    scope?: ApiScope;
  }
}

/** `Authorization: Bearer <key>` on every route that declares a scope: 401 without a valid key, 403 without the scope. */
export function registerAuth(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('apiKey', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const scope = request.routeOptions.config?.scope;
    if (!scope) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new HttpError('unauthorized', 'Send Authorization: Bearer <key>', undefined, { 'www-authenticate': 'Bearer' });
    const key = await verifyApiKey(ctx.pool, match[1]!);
    if (!key) throw new HttpError('unauthorized', 'The API key is unknown or revoked', undefined, { 'www-authenticate': 'Bearer' });
    request.apiKey = key;
    if (!hasScope(key.scopes, scope)) throw new HttpError('forbidden', `This route needs the "${scope}" scope`);
  });
}
