import { newRowId } from '../db/row-id.js';
import { z } from 'zod';
import { aggregateTypes, eventCatalog, eventTypes, isEventType, type AggregateType, type EventType, type PayloadOf } from './catalog/index.js';
import { identifier, isoTimestamp } from './catalog/fields.js';
import { EventValidationError, type FieldProblem } from './validation-error.js';

export interface EventMetadata {
  userId?: string;
  correlationId?: string;
  causationId?: string;
  source: string;
}

export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  timestamp: string;
  aggregateId: string;
  aggregateType: AggregateType;
  payload: PayloadOf<T>;
  metadata: EventMetadata;
}

/** A discriminated union: narrowing on `type` narrows `payload`. */
export type HeraldEvent = { [T in EventType]: EventEnvelope<T> }[EventType];

/** What a publisher hands in: id and timestamp are optional and filled in. */
export type EventInput = {
  [T in EventType]: Omit<EventEnvelope<T>, 'id' | 'timestamp'> & { id?: string; timestamp?: string };
}[EventType];

const envelopeSchema = z.strictObject({
  id: z.uuid('must be a UUID').optional(),
  type: z.enum(eventTypes as [EventType, ...EventType[]], { error: 'is not a known event type' }),
  timestamp: isoTimestamp.optional(),
  aggregateId: identifier,
  aggregateType: z.enum(aggregateTypes, { error: `must be one of ${aggregateTypes.join(', ')}` }),
  // Only the shape: the type's own schema parses the payload below. z.record would copy it.
  payload: z.custom<Record<string, unknown>>((value) => value !== null && typeof value === 'object' && !Array.isArray(value), {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be an object'),
  }),
  metadata: z.strictObject({
    userId: identifier.optional(),
    correlationId: identifier.optional(),
    causationId: identifier.optional(),
    source: identifier,
  }, { error: 'must be an object with at least "source"' }),
});

// A missing field reads better as "is required" than as a type mismatch against undefined.
z.config({
  customError: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined),
});

function toProblems(issues: z.core.$ZodIssue[], prefix: string[] = []): FieldProblem[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

export interface ParseOptions {
  maxPayloadBytes?: number;
  now?: () => Date;
}

/**
 * Validates an untrusted event against the envelope and its type's payload schema.
 * Every offending field is reported at once, so a publisher fixes its event in one round.
 */
export function parseEvent(input: unknown, options: ParseOptions = {}): HeraldEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EventValidationError([{ path: '', message: 'must be a JSON object' }]);
  }
  const problems: FieldProblem[] = [];
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) problems.push(...toProblems(envelope.error.issues));

  const raw = input as Record<string, unknown>;
  const type = raw.type;
  let payload: unknown;
  if (isEventType(type)) {
    const entry = eventCatalog[type];
    if (raw.aggregateType !== undefined && raw.aggregateType !== entry.aggregateType) {
      problems.push({ path: 'aggregateType', message: `must be "${entry.aggregateType}" for ${type}` });
    }
    const parsed = entry.payload.safeParse(raw.payload);
    if (parsed.success) payload = parsed.data;
    else if (raw.payload !== null && typeof raw.payload === 'object' && !Array.isArray(raw.payload)) problems.push(...toProblems(parsed.error.issues, ['payload']));
  }
  if (options.maxPayloadBytes !== undefined && raw.payload !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(raw.payload) ?? '');
    if (size > options.maxPayloadBytes) {
      problems.push({ path: 'payload', message: `is ${size} bytes; the limit is ${options.maxPayloadBytes}` });
    }
  }
  if (problems.length > 0 || !envelope.success) throw new EventValidationError(dedupe(problems));

  const data = envelope.data;
  return {
    id: data.id ?? newRowId(),
    type: data.type,
    timestamp: data.timestamp ? new Date(data.timestamp).toISOString() : (options.now?.() ?? new Date()).toISOString(),
    aggregateId: data.aggregateId,
    aggregateType: data.aggregateType,
    payload,
    metadata: data.metadata,
  } as HeraldEvent;
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
