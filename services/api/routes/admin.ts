import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../../../lib/api/http-errors.js';
import { maskPii } from '../../../lib/api/pii.js';
import { channelNames } from '../../../lib/channels/channel.js';
import { maxReplayEvents, replayEvents } from '../../../lib/events/replay.js';
import { discardDeadLetter, listDeadLetters, retryDeadLetters } from '../../../lib/queues/dead-letters.js';
import type { RouteDeps } from '../server.js';
import { aggregateTypeSchema, eventTypeSchema, timestampSchema, uuidSchema } from '../schemas.js';

const replayBody = z.union([
  z.strictObject({ eventIds: z.array(uuidSchema).min(1).max(maxReplayEvents) }),
  z.strictObject({
    filter: z
      .strictObject({
        type: eventTypeSchema.optional(),
        aggregateType: aggregateTypeSchema.optional(),
        aggregateId: z.string().max(128).optional(),
        userId: z.string().max(128).optional(),
        correlationId: z.string().max(128).optional(),
        from: timestampSchema.optional(),
        to: timestampSchema.optional(),
      })
      .refine((f) => Object.values(f).some((v) => v !== undefined), 'give at least one filter field'),
  }),
]);

const deliveryParams = z.object({ deliveryId: uuidSchema });

/** Operator routes (admin scope): replay and dead letters. */
export const adminRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { ctx }) => {
  app.post(
    '/v1/events/replay',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Re-run the handlers of chosen events; deliveries already SENT are not sent again',
        body: replayBody,
      },
    },
    async (request) => {
      const body = request.body;
      if ('eventIds' in body) return replayEvents(ctx, { eventIds: body.eventIds });
      const { from, to, ...rest } = body.filter;
      return replayEvents(ctx, { filter: { ...rest, from: from ? new Date(from) : undefined, to: to ? new Date(to) : undefined } });
    },
  );

  app.get(
    '/v1/dead-letters',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Dead-lettered deliveries',
        querystring: z.object({
          channel: z.enum(channelNames).optional(),
          eventType: eventTypeSchema.optional(),
          userId: z.string().max(128).optional(),
          includeResolved: z.enum(['true', 'false']).optional(),
          cursor: z.string().max(512).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
    },
    async (request) => {
      const { includeResolved, ...q } = request.query;
      return maskPii(await listDeadLetters(ctx.pool, { ...q, includeResolved: includeResolved === 'true' }));
    },
  );

  app.post(
    '/v1/dead-letters/:deliveryId/retry',
    { config: { scope: 'admin' }, schema: { tags: ['admin'], summary: 'Retry one dead letter', params: deliveryParams } },
    async (request) => {
      const outcome = await retryDeadLetters(ctx.pool, [request.params.deliveryId]);
      if (outcome.retried.length === 0) throw new HttpError('not_found', `No open dead letter ${request.params.deliveryId}`);
      return { retried: outcome.retried };
    },
  );

  app.delete(
    '/v1/dead-letters/:deliveryId',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Discard a dead letter for good (the reason is kept)',
        params: deliveryParams,
        body: z.strictObject({ reason: z.string().trim().min(1).max(500) }),
      },
    },
    async (request, reply) => {
      const discarded = await discardDeadLetter(ctx.pool, request.params.deliveryId, request.body.reason);
      if (!discarded) throw new HttpError('not_found', `No open dead letter ${request.params.deliveryId}`);
      return reply.code(204).send();
    },
  );
};
