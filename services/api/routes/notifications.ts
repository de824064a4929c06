import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../../../lib/api/http-errors.js';
import { maskPii } from '../../../lib/api/pii.js';
import { channelNames } from '../../../lib/channels/channel.js';
import { deliveryStatuses } from '../../../lib/notifications/delivery-status.js';
import { loadNotification, queryNotifications } from '../../../lib/notifications/notification-query.js';
import { deliveryStats, parseWindow } from '../../../lib/notifications/stats.js';
import type { RouteDeps } from '../server.js';
import { eventTypeSchema, idParams, pageQuery, toDate } from '../schemas.js';

const notificationsQuery = z.object({
  userId: z.string().max(128).optional(),
  status: z.enum(deliveryStatuses).optional().describe('Notifications with at least one delivery in this status'),
  channel: z.enum(channelNames).optional(),
  eventType: eventTypeSchema.optional(),
  ...pageQuery,
});

export const notificationRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/notifications',
    {
      config: { scope: 'read' },
      schema: { tags: ['notifications'], summary: 'Query notifications with their deliveries (newest first)', querystring: notificationsQuery },
    },
    async (request) => {
      const q = request.query;
      return maskPii(await queryNotifications(ctx.pool, { ...q, from: toDate(q.from), to: toDate(q.to) }));
    },
  );

  app.get(
    '/v1/notifications/:id',
    {
      config: { scope: 'read' },
      schema: { tags: ['notifications'], summary: 'A notification with its deliveries and attempts', params: idParams },
    },
    async (request) => {
      const notification = await loadNotification(ctx.pool, request.params.id);
      if (!notification) throw new HttpError('not_found', `No notification ${request.params.id}`);
      return maskPii(notification);
    },
  );

  app.get(
    '/v1/stats',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['notifications'],
        summary: 'Delivery statistics over a window: totals, per channel, per event type, per hour',
        querystring: z.object({
          window: z
            .string()
            .default('24h')
            .refine((w) => parseWindow(w) !== null, 'must be like 15m, 24h or 7d (at most 31d)'),
        }),
      },
    },
    async (request) => deliveryStats(ctx.pool, parseWindow(request.query.window)!),
  );
};
