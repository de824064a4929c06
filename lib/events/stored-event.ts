import type { HeraldEvent } from './envelope.js';

/** An event as Postgres holds it: the envelope plus when it was stored. */
export type StoredEvent = HeraldEvent & { storedAt: string };

export interface EventRow {
  id: string;
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: unknown;
  metadata: unknown;
  occurred_at: Date;
  stored_at: Date;
}

export const eventColumns = 'id, type, aggregate_type, aggregate_id, payload, metadata, occurred_at, stored_at';

export function rowToEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    payload: row.payload,
    metadata: row.metadata,
    timestamp: row.occurred_at.toISOString(),
    storedAt: row.stored_at.toISOString(),
  } as StoredEvent;
}
