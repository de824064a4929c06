import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hasScope } from '../../../lib/api/api-keys.js';
import { HttpError } from '../../../lib/api/http-errors.js';
import { channelNames } from '../../../lib/channels/channel.js';
import { deliveryStatuses } from '../../../lib/notifications/delivery-status.js';
import { StatusFeedSubscriber, type DeliveryStatusChange } from '../../../lib/notifications/status-feed.js';
import { createRedis } from '../../../lib/redis.js';
import type { RouteDeps } from '../server.js';

export interface StreamOptions {
  /** Heartbeat comment interval (default 15 s). */
  heartbeatMs?: number;
  /** A client whose unsent output passes this many bytes is disconnected (default 256 KiB). */
  maxBufferedBytes?: number;
}

const listOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .max(200)
    .optional()
    .transform((s, ctx) => {
      if (!s) return undefined;
      const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
      for (const p of parts) {
        if (!(values as readonly string[]).includes(p)) {
          ctx.addIssue({ code: 'custom', message: `"${p}" is not one of ${values.join(', ')}` });
          return z.NEVER;
        }
      }
      return new Set(parts);
    });

const streamQuery = z.object({
  channel: listOf(channelNames).describe('Only these channels (comma-separated: push,email,sms)'),
  status: listOf(deliveryStatuses).describe('Only these delivery statuses (comma-separated)'),
  key: z.string().max(200).optional().describe('The API key, for EventSource clients that cannot send headers'),
});

/**
 * `GET /v1/stream`: server-sent events of delivery status changes (read scope).
 *
 * Auth: `Authorization: Bearer <key>`, or `?key=<key>` because the browser's EventSource
 * cannot set headers (prefer the header: a query string can end up in proxy logs).
 * Each change is one `data:` line of JSON {deliveryId, notificationId, eventType, userId,
 * channel, status, at}; a `: heartbeat` comment every 15 s keeps proxies from timing out.
 * Slow clients are dropped: output is never buffered past `maxBufferedBytes` per client.
 */
export const streamRoutes: FastifyPluginAsyncZod<RouteDeps & StreamOptions> = async (app, { ctx, apiKeys, heartbeatMs = 15_000, maxBufferedBytes = 256 * 1024 }) => {
  const feed = new StatusFeedSubscriber(() => createRedis(ctx.config.REDIS_URL), ctx.logger);
  const clients = new Set<FastifyReply>();
  app.addHook('onClose', async () => {
    for (const reply of clients) reply.raw.destroy();
    await feed.close();
  });

  // The global auth hook only reads the header; this route also takes ?key= (no `scope`
  // config, so it authenticates here, and sets request.apiKey so the rate limit applies).
  const authenticate = async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const fromHeader = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    const fromQuery = (request.query as { key?: unknown } | undefined)?.key;
    const given = fromHeader ?? (typeof fromQuery === 'string' ? fromQuery : undefined);
    if (!given) throw new HttpError('unauthorized', 'Send Authorization: Bearer <key> (or ?key=<key> from EventSource)', undefined, { 'www-authenticate': 'Bearer' });
    const key = await apiKeys.cache.verify(given);
    if (!key) throw new HttpError('unauthorized', 'The API key is unknown or revoked', undefined, { 'www-authenticate': 'Bearer' });
    request.apiKey = key;
    if (!hasScope(key.scopes, 'read')) throw new HttpError('forbidden', 'This route needs the "read" scope');
  };

  app.get(
    '/v1/stream',
    {
      onRequest: authenticate,
      schema: {
        tags: ['notifications'],
        summary: 'Live feed of delivery status changes (text/event-stream)',
        description:
          'Server-sent events. Authenticate with the Bearer header, or `?key=` for EventSource. Each event is `data: ' +
          '{deliveryId, notificationId, eventType, userId, channel, status, at}`; `: heartbeat` comments every 15 s. ' +
          'Clients that do not read fast enough are disconnected.',
        querystring: streamQuery,
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      const { channel, status } = request.query;
      const matches = (c: DeliveryStatusChange) => (!channel || channel.has(c.channel)) && (!status || status.has(c.status));
      const res = reply.raw;
      let closed = false;
      let unsubscribe: () => void = () => {};
      let heartbeat: NodeJS.Timeout | null = null;
      const close = (reason: string) => {
        if (closed) return;
        closed = true;
        unsubscribe();
        if (heartbeat) clearInterval(heartbeat);
        clients.delete(reply);
        request.log.debug({ reason }, 'stream client closed');
        if (!res.destroyed) res.destroy();
      };
      const write = (chunk: string) => {
        if (closed) return;
        // Never buffer without bound: a client that cannot keep up is dropped (it may reconnect).
        if (res.writableLength > maxBufferedBytes) {
          request.log.info({ buffered: res.writableLength }, 'stream client too slow; disconnecting');
          close('slow');
          return;
        }
        res.write(chunk);
      };

      // Subscribe before the headers go out, so a client that sees the response sees every later change.
      unsubscribe = await feed.subscribe((change, raw) => {
        if (matches(change)) write(`data: ${raw}\n\n`);
      });
      reply.hijack();
      clients.add(reply);
      res.on('close', () => close('client'));
      res.on('error', () => close('error'));
      if (res.destroyed || request.raw.destroyed) return close('client');
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      res.write('retry: 3000\n: connected\n\n');
      heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs);
      heartbeat.unref();
    },
  );
};
