import type { PoolClient } from '../db/pool.js';
import { pgExecutor } from '../db/sql-executor.js';
import { parseEvent, type EventInput } from '../events/envelope.js';
import { insertEvents } from '../events/event-store.js';
import type { StoredEvent } from '../events/stored-event.js';

/**
 * Validates and stores events inside the caller's pg transaction (transactional outbox), so an
 * alert commits or rolls back with the state change that caused it. Returns the events that
 * are new: the caller broadcasts those after commit; a repeated id stored nothing.
 */
export async function storeEvents(client: PoolClient, inputs: EventInput[]): Promise<StoredEvent[]> {
  if (inputs.length === 0) return [];
  const outcomes = await insertEvents(pgExecutor(client), inputs.map((input) => parseEvent(input)));
  return outcomes.filter((o) => !o.duplicate).map((o) => o.event);
}
