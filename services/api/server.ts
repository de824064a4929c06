import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { AppContext } from '../../lib/app-context.js';
import { HttpError, isUnavailableError, type ErrorBody } from '../../lib/api/http-errors.js';
import { createMetrics, type HeraldMetrics } from '../../lib/api/metrics.js';
import { CoalescingRedisStore } from '../../lib/api/rate-limit-store.js';
import { ReplayTooLargeError } from '../../lib/events/replay.js';
import { EventValidationError } from '../../lib/events/validation-error.js';
import { apiConfigFrom, type ApiConfig } from './api-config.js';
import { registerAuth, type ApiKeyAuth } from './auth.js';
import { registerRateLimit } from './rate-limit.js';
import { lazyRequestLogger, QuietRequestLogController } from './request-logging.js';
import { adminRoutes } from './routes/admin.js';
import { alertRuleRoutes } from './routes/alert-rules.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { notificationRoutes } from './routes/notifications.js';
import { queuesUiRoutes } from './routes/queues-ui.js';
import { receiptRoutes } from './routes/receipts.js';
import { streamRoutes } from './routes/stream.js';
import { userRoutes } from './routes/users.js';

export interface ServerOptions {
  apiConfig?: Partial<ApiConfig>;
  metrics?: HeraldMetrics;
}

export interface RouteDeps {
  ctx: AppContext;
  metrics: HeraldMetrics;
  apiConfig: ApiConfig;
  apiKeys: ApiKeyAuth;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The HTTP API (SPEC §8): health, metrics, OpenAPI and the v1 routes. Every response carries
 * `x-request-id` (the caller's, when it sends a sane one); every error has the body
 * `{ error, message, details? }` of lib/api/http-errors.ts.
 */
export async function buildServer(ctx: AppContext, options: ServerOptions = {}): Promise<FastifyInstance> {
  const apiConfig = { ...apiConfigFrom(ctx.config), ...options.apiConfig };
  const metrics = options.metrics ?? createMetrics();
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new QuietRequestLogController(),
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: apiConfig.API_BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Callback-style hooks: they run on every request, and neither needs a promise.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body, headers, code } = toErrorResponse(error);
    if (status >= 500) request.log.error({ err: error, code }, 'request failed');
    else request.log.info({ code, status }, 'request rejected');
    reply.headers(headers).header('herald-error-code', code).code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new HttpError('not_found', `No route ${request.method} ${request.url.split('?')[0]}`);
    reply.header('herald-error-code', error.code).code(404).send(error.body());
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Herald API',
        version: '1.0.0',
        description:
          'Event bus and notification service. Authenticate with `Authorization: Bearer <key>`. Scopes: `read`, `publish`, ' +
          '`admin` (admin implies read and publish). Errors: `{ error, message, details? }` with a stable `herald-error-code` header.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const apiKeys = registerAuth(app, ctx, apiConfig);
  let limitsOffWarnedAt = -Infinity;
  registerRateLimit(app, {
    // One INCRBY per key per event-loop turn instead of one per request. ctx.redis fails fast
    // while Redis is away (no offline queue); the hook then lets requests through, and the log
    // says so every 10 s at most, since the limits are not enforced meanwhile.
    store: new CoalescingRedisStore(ctx.redis, 'herald:rate-limit:'),
    defaultMax: apiConfig.API_RATE_LIMIT_PER_MINUTE,
    onStoreError: (error) => {
      if (performance.now() - limitsOffWarnedAt < 10_000) return;
      limitsOffWarnedAt = performance.now();
      app.log.warn({ err: error }, 'rate limits not enforced: their Redis count failed; requests are let through');
    },
  });

  const deps: RouteDeps = { ctx, metrics, apiConfig, apiKeys };
  await app.register(healthRoutes, deps);
  await app.register(eventRoutes, deps);
  await app.register(notificationRoutes, deps);
  await app.register(userRoutes, deps);
  await app.register(alertRuleRoutes, deps);
  await app.register(adminRoutes, deps);
  await app.register(receiptRoutes, deps);
  await app.register(streamRoutes, deps);
  await app.register(monitoringRoutes, deps);
  await app.register(queuesUiRoutes, deps);
  return app;
}

function toErrorResponse(error: FastifyError): { status: number; body: ErrorBody; headers: Record<string, string>; code: string } {
  const from = (e: HttpError) => ({ status: e.statusCode, body: e.body(), headers: e.headers, code: e.code });
  if (error instanceof HttpError) return from(error);
  if (error instanceof EventValidationError) return from(new HttpError('validation_failed', 'The event is invalid', error.details));
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.map((v) => ({
      path: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
      message: v.message ?? 'is invalid',
    }));
    return from(new HttpError('validation_failed', `Invalid ${error.validationContext ?? 'request'}`, details));
  }
  if (error instanceof ReplayTooLargeError) return from(new HttpError('selection_too_large', error.message));
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return from(new HttpError('payload_too_large'));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return from(new HttpError('unsupported_media_type'));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return from(new HttpError('validation_failed', 'The body is not valid JSON', [{ path: '', message: error.message }]));
  }
  if (isUnavailableError(error)) return from(new HttpError('unavailable'));
  if (error.statusCode === 404) return from(new HttpError('not_found'));
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return from(new HttpError('validation_failed', error.message, [{ path: '', message: error.message }]));
  }
  return from(new HttpError('internal_error'));
}
