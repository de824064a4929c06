import type { SqlExecutor } from '../db/sql-executor.js';
import type { HeraldEvent } from './envelope.js';
import { eventColumns, rowToEvent, type EventRow, type StoredEvent } from './stored-event.js';

export interface InsertOutcome {
  event: StoredEvent;
  /** True when an event with this id already existed: nothing new was written. */
  duplicate: boolean;
}

export interface InsertOptions {
  /** Stored without an outbox row: for events no durable handler consumes, so the processor never claims them. */
  processed?: boolean;
}

/**
 * Inserts a batch in one statement. The caller-supplied id is the idempotency key:
 * a repeat is not an error, it answers with the event already stored.
 */
export async function insertEvents(db: SqlExecutor, events: HeraldEvent[], options: InsertOptions = {}): Promise<InsertOutcome[]> {
  if (events.length === 0) return [];
  const rows = events.map((e) => ({
    id: e.id,
    type: e.type,
    aggregate_type: e.aggregateType,
    aggregate_id: e.aggregateId,
    user_id: e.metadata.userId ?? null,
    correlation_id: e.metadata.correlationId ?? null,
    causation_id: e.metadata.causationId ?? null,
    source: e.metadata.source,
    payload: e.payload,
    metadata: e.metadata,
    occurred_at: e.timestamp,
  }));
  // Only what Postgres adds comes back: echoing payload and metadata cost both sides a jsonb
  // round trip per row, for values this function already holds. An event some handler still
  // has to run for gets its outbox row in the same statement, so it is never stored unowed.
  // stored_at comes back already in toISOString()'s form: Postgres formats it on its own core
  // instead of this process parsing a timestamp into a Date and printing it again per event.
  const inserted = await db.query<{ id: string; stored_at: string }>(
    `WITH stored AS (
       INSERT INTO domain_events (id, type, aggregate_type, aggregate_id, user_id, correlation_id, causation_id, source, payload, metadata, occurred_at)
       SELECT id, type, aggregate_type, aggregate_id, user_id, correlation_id, causation_id, source, payload, metadata, occurred_at
         FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, type text, aggregate_type text, aggregate_id text, user_id text,
              correlation_id text, causation_id text, source text, payload jsonb, metadata jsonb, occurred_at timestamptz)
       ON CONFLICT (id) DO NOTHING
       RETURNING id, stored_at),
     owed AS (INSERT INTO event_outbox (event_id, stored_at) SELECT id, stored_at FROM stored WHERE NOT $2::boolean)
     SELECT id, to_char(stored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS stored_at FROM stored`,
    [JSON.stringify(rows), options.processed ?? false],
    'insert-events',
  );
  const storedAt = new Map(inserted.map((row) => [row.id, row.stored_at]));
  const missing = events.filter((e) => !storedAt.has(e.id)).map((e) => e.id);
  const existing = new Map((await loadEvents(db, missing)).map((e) => [e.id, e]));
  const fresh = new Map<string, StoredEvent>();
  return events.map((e) => {
    const at = storedAt.get(e.id);
    // The same id twice in one batch: the first occurrence is the new event, the rest repeats.
    if (at !== undefined && !fresh.has(e.id)) {
      const event = { ...e, storedAt: at } as StoredEvent;
      fresh.set(e.id, event);
      return { event, duplicate: false };
    }
    const prior = fresh.get(e.id) ?? existing.get(e.id);
    if (!prior) throw new Error(`event ${e.id} was neither inserted nor found`);
    return { event: prior, duplicate: true };
  });
}

export async function loadEvents(db: SqlExecutor, ids: string[]): Promise<StoredEvent[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<EventRow>(`SELECT ${eventColumns} FROM domain_events WHERE id = ANY($1::uuid[])`, [ids], 'load-events');
  return rows.map(rowToEvent);
}
