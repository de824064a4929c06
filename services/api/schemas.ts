import { z } from 'zod';
import { aggregateTypes, eventTypes, type EventType } from '../../lib/events/catalog/index.js';

export const eventTypeSchema = z.enum(eventTypes as [EventType, ...EventType[]], { error: 'is not a known event type' });
export const aggregateTypeSchema = z.enum(aggregateTypes);
export const timestampSchema = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 timestamp with offset' });
export const uuidSchema = z.uuid('must be a UUID');
export const idParams = z.object({ id: uuidSchema });

export const pageQuery = {
  cursor: z.string().max(512).optional().describe('Opaque cursor from a previous page (nextCursor)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  from: timestampSchema.optional().describe('Inclusive lower bound'),
  to: timestampSchema.optional().describe('Exclusive upper bound'),
};

export const errorBody = z
  .object({
    error: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .describe('Error (see herald-error-code header)');

export const toDate = (value: string | undefined) => (value === undefined ? undefined : new Date(value));
