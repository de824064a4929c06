import type { SqlExecutor } from '../db/sql-executor.js';
import type { HeraldEvent } from './envelope.js';
import { eventColumns, rowToEvent, type EventRow, type StoredEvent } from './stored-event.js';

export interface InsertOutcome {
  event: StoredEvent;
  /** True when an event with this id already existed: nothing new was written. */
  duplicate: boolean;
}

/**
 * Inserts a batch in one statement. The caller-supplied id is the idempotency key:
 * a repeat is not an error, it answers with the event already stored.
 */
export async function insertEvents(db: SqlExecutor, events: HeraldEvent[]): Promise<InsertOutcome[]> {
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
  const inserted = await db.query<EventRow>(
    `INSERT INTO domain_events (id, type, aggregate_type, aggregate_id, user_id, correlation_id, causation_id, source, payload, metadata, occurred_at)
     SELECT id, type, aggregate_type, aggregate_id, user_id, correlation_id, causation_id, source, payload, metadata, occurred_at
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, type text, aggregate_type text, aggregate_id text, user_id text,
            correlation_id text, causation_id text, source text, payload jsonb, metadata jsonb, occurred_at timestamptz)
     ON CONFLICT (id) DO NOTHING
     RETURNING ${eventColumns}`,
    [JSON.stringify(rows)],
  );
  const fresh = new Map(inserted.map((row) => [row.id, rowToEvent(row)]));
  const missing = events.filter((e) => !fresh.has(e.id)).map((e) => e.id);
  const existing = new Map((await loadEvents(db, missing)).map((e) => [e.id, e]));
  const claimedFresh = new Set<string>();
  return events.map((e) => {
    const stored = fresh.get(e.id);
    // The same id twice in one batch: the first occurrence is the new event, the rest repeats.
    if (stored && !claimedFresh.has(e.id)) {
      claimedFresh.add(e.id);
      return { event: stored, duplicate: false };
    }
    const prior = stored ?? existing.get(e.id);
    if (!prior) throw new Error(`event ${e.id} was neither inserted nor found`);
    return { event: prior, duplicate: true };
  });
}

export async function loadEvents(db: SqlExecutor, ids: string[]): Promise<StoredEvent[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<EventRow>(`SELECT ${eventColumns} FROM domain_events WHERE id = ANY($1::uuid[])`, [ids]);
  return rows.map(rowToEvent);
}
