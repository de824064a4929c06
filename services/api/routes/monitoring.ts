import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteDeps } from '../server.js';

const publicDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');
const chartDir = dirname(createRequire(import.meta.url).resolve('chart.js'));

/** The page loads only its own files; it talks to this API only. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The monitoring page (SPEC §9) at `/`: static HTML/CSS/JS from services/api/public and
 * Chart.js's UMD build from node_modules at `/vendor/chart.umd.min.js`. Loading the page
 * needs no key; the page asks for one (kept in sessionStorage) and sends it as a Bearer
 * header on every API call, so all data stays behind the API's scopes.
 */
export const monitoringRoutes: FastifyPluginAsync<RouteDeps> = async (app) => {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', contentSecurityPolicy);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    return payload;
  });
  await app.register(fastifyStatic, {
    root: publicDir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    cacheControl: true,
    maxAge: 0,
  });
  app.get('/vendor/chart.umd.min.js', { schema: { hide: true } }, (_request, reply) => {
    reply.header('cache-control', 'public, max-age=86400');
    return reply.sendFile('chart.umd.min.js', chartDir);
  });
};
