import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../../../lib/api/http-errors.js';
import { maskPii } from '../../../lib/api/pii.js';
import { parseEvent, type HeraldEvent } from '../../../lib/events/envelope.js';
import { loadEventTrace, queryEvents } from '../../../lib/events/event-query.js';
import type { StoredEvent } from '../../../lib/events/stored-event.js';
import type { RouteDeps } from '../server.js';
import { aggregateTypeSchema, errorBody, eventTypeSchema, idParams, pageQuery, toDate } from '../schemas.js';

/** Namespace of the event ids derived from an Idempotency-Key (UUID v5 style, per API key). */
const idempotencyNamespace = Buffer.from('6b1f7a52c3d94e0f8a1e2d3c4b5a6978', 'hex');

/** Deterministic: the same API key and Idempotency-Key always name the same event. */
export function idFromIdempotencyKey(apiKeyId: string, idempotencyKey: string): string {
  const hash = createHash('sha1').update(idempotencyNamespace).update(`${apiKeyId}\u0000${idempotencyKey}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whether a resubmission describes the stored event (the timestamp counts only when the caller gave one). */
function sameEvent(submitted: HeraldEvent, stored: StoredEvent, timestampGiven: boolean): boolean {
  return (
    submitted.type === stored.type &&
    submitted.aggregateType === stored.aggregateType &&
    submitted.aggregateId === stored.aggregateId &&
    canonical(submitted.payload) === canonical(stored.payload) &&
    canonical(submitted.metadata) === canonical(stored.metadata) &&
    (!timestampGiven || new Date(submitted.timestamp).getTime() === new Date(stored.timestamp).getTime())
  );
}

const idempotencyKey = z.string().min(1).max(255);
const ingestHeaders = z.object({ 'idempotency-key': idempotencyKey.optional() });

/** The one header the ingest route reads, checked alone: zod over the whole object would copy every header. */
function validateIngestHeaders(headers: unknown): { value: unknown } | { error: Error } {
  const key = (headers as Record<string, unknown>)['idempotency-key'];
  if (key === undefined) return { value: headers };
  const checked = idempotencyKey.safeParse(key);
  if (checked.success) return { value: headers };
  return { error: new HttpError('validation_failed', 'Invalid headers', checked.error.issues.map((issue) => ({ path: 'idempotency-key', message: issue.message }))) };
}

const eventsQuery = z.object({
  type: eventTypeSchema.optional(),
  aggregateType: aggregateTypeSchema.optional(),
  aggregateId: z.string().max(128).optional(),
  userId: z.string().max(128).optional(),
  correlationId: z.string().max(128).optional(),
  ...pageQuery,
});

export const eventRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { ctx, metrics }) => {
  app.post(
    '/v1/events',
    {
      config: { scope: 'publish' },
      // The response schemas document the API; every body sent here is built by this route or
      // the error handler in exactly that shape, so re-validating each one would only cost time.
      serializerCompiler: () => (data) => JSON.stringify(data),
      // Likewise the body schema only documents the envelope: the bus validates it field by field
      // (EventValidationError → 400), and zod's pass over it here copied every body for nothing.
      validatorCompiler: ({ httpPart }) => (httpPart === 'headers' ? validateIngestHeaders : (value: unknown) => ({ value })),
      schema: {
        tags: ['events'],
        summary: 'Publish an event',
        description:
          'Validates and stores the event, then broadcasts it. The id is the idempotency key: the same id again answers 200 ' +
          'with the stored event, a different event under a used id answers 409. Without an id, an `Idempotency-Key` header ' +
          'derives one (deterministically, per API key).',
        headers: ingestHeaders,
        body: z.looseObject({}).describe('Event envelope: id?, type, timestamp?, aggregateId, aggregateType, payload, metadata { source, userId?, correlationId?, causationId? }'),
        response: {
          202: z.object({ id: z.string(), type: z.string(), storedAt: z.string() }).describe('Stored'),
          200: z.looseObject({ id: z.string() }).describe('Already stored: the stored event'),
          400: errorBody, 401: errorBody, 403: errorBody, 409: errorBody, 413: errorBody, 429: errorBody, 503: errorBody,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as Record<string, unknown>;
      const idempotencyKey = request.headers['idempotency-key'];
      const input = idempotencyKey && body.id === undefined ? { ...body, id: idFromIdempotencyKey(request.apiKey!.id, idempotencyKey) } : body;
      // The bus validates (EventValidationError → 400); parsing here too would double the cost of every request.
      const result = await ctx.bus.publish(input);
      if (result.duplicate) {
        // A repeat carries an id, so parsing it again names the same event; only repeats pay for it.
        const event = parseEvent(input, { maxPayloadBytes: ctx.config.EVENT_MAX_PAYLOAD_BYTES });
        if (!sameEvent(event, result.event, body.timestamp !== undefined)) {
          throw new HttpError('conflict', `Event ${event.id} already exists with different content`, [{ path: 'id', message: 'is already used by a different event' }]);
        }
        metrics.recordPublished(result.type, 'duplicate');
        return reply.code(200).send(maskPii(result.event) as unknown as Record<string, unknown> & { id: string });
      }
      metrics.recordPublished(result.type, 'stored');
      return reply.code(202).send({ id: result.id, type: result.type, storedAt: result.storedAt });
    },
  );

  app.get(
    '/v1/events',
    {
      config: { scope: 'read' },
      schema: { tags: ['events'], summary: 'Query events (newest first, cursor-paginated)', querystring: eventsQuery },
    },
    async (request) => {
      const q = request.query;
      const page = await queryEvents(ctx.pool, { ...q, from: toDate(q.from), to: toDate(q.to) });
      return maskPii(page);
    },
  );

  app.get(
    '/v1/events/:id',
    {
      config: { scope: 'read' },
      schema: { tags: ['events'], summary: 'An event with its notifications, deliveries and attempts (full trace)', params: idParams },
    },
    async (request) => {
      const trace = await loadEventTrace(ctx.pool, request.params.id);
      if (!trace) throw new HttpError('not_found', `No event ${request.params.id}`);
      return maskPii(trace);
    },
  );
};
