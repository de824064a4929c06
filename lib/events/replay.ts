import type { AppContext } from '../app-context.js';
import { notificationHandlers } from '../notifications/notifier.js';
import { EventProcessor } from './event-processor.js';
import { loadSelection, type EventFilter } from './event-query.js';

export type ReplayFilter = EventFilter;

export type ReplaySelection = { eventIds: string[] } | { filter: ReplayFilter };

/** A replay touches at most this many events; larger ones are split by the operator. */
export const maxReplayEvents = 10_000;

export class ReplayTooLargeError extends Error {
  readonly code = 'HERALD_ERR_REPLAY_TOO_LARGE';
  constructor(readonly matched: number) {
    super(`the selection matches more than ${maxReplayEvents} events; narrow the filter`);
  }
}

/**
 * Re-runs the durable handlers for the chosen events. Fan-out is idempotent, so deliveries
 * already SENT or DELIVERED are never sent again; FAILED and DEAD_LETTERED ones get a fresh
 * attempt budget and any channel routed since is added. New work is left PENDING for the
 * notifiers' pollers, so a replay works from any process.
 */
export async function replayEvents(ctx: AppContext, selection: ReplaySelection): Promise<{ replayed: number }> {
  const ids = 'eventIds' in selection ? [...new Set(selection.eventIds)] : await idsMatching(ctx, selection.filter);
  if (ids.length > maxReplayEvents) throw new ReplayTooLargeError(ids.length);
  if (ids.length === 0) return { replayed: 0 };
  // The events are owed a run again, with a fresh attempt budget. retry_at in the future
  // keeps sweepers from taking them in the moment between this and the replay run below (they
  // would handle them without the replay flag).
  await ctx.pool.query(
    `INSERT INTO event_outbox (event_id, stored_at, retry_at)
     SELECT id, stored_at, now() + interval '5 minutes' FROM domain_events WHERE id = ANY($1::uuid[])
     ON CONFLICT (event_id) DO UPDATE SET attempts = 0, last_error = NULL, quarantined_at = NULL, retry_at = excluded.retry_at`,
    [ids],
  );
  const processor = new EventProcessor({
    pool: ctx.pool,
    handlers: notificationHandlers({ logger: ctx.logger }),
    logger: ctx.logger,
    graceMs: 0,
    batchSize: 500,
    maxAttempts: ctx.config.EVENT_MAX_PROCESS_ATTEMPTS,
  });
  let replayed = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const outcome = await processor.processIds(ids.slice(i, i + 500), true);
    replayed += outcome.processed;
  }
  return { replayed };
}

async function idsMatching(ctx: AppContext, filter: EventFilter): Promise<string[]> {
  const rows = await loadSelection<{ id: string }>(ctx.pool, 'id, stored_at', { ...filter, order: 'oldest', limit: maxReplayEvents + 1 });
  return rows.map((r) => r.id);
}
