import type { FastifyPluginAsync } from 'fastify';
import type { RouteDeps } from '../server.js';

/** Liveness, readiness (Postgres and Redis) and Prometheus metrics; none needs a key. */
export const healthRoutes: FastifyPluginAsync<RouteDeps> = async (app, { ctx, metrics }) => {
  app.get('/health/live', { schema: { tags: ['health'], security: [] } }, async () => ({ status: 'ok' }));

  app.get('/health/ready', { schema: { tags: ['health'], security: [] } }, async (_request, reply) => {
    const timeout = <T>(p: Promise<T>) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), 1_000).unref())]);
    const [postgres, redis] = await Promise.allSettled([timeout(ctx.pool.query('SELECT 1')), timeout(ctx.redis.ping())]);
    const checks = {
      postgres: postgres.status === 'fulfilled' ? 'ok' : 'unavailable',
      redis: redis.status === 'fulfilled' ? 'ok' : 'unavailable',
    };
    const ready = checks.postgres === 'ok' && checks.redis === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });

  app.get('/metrics', { schema: { tags: ['health'], security: [], produces: ['text/plain'] } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
