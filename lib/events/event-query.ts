import { withTransaction, type Pool } from '../db/pool.js';
import { decodeCursor, encodeCursor } from '../api/cursor.js';
import { eventColumns, rowToEvent, type EventRow, type StoredEvent } from './stored-event.js';

/** Which events: every field narrows the selection (used by queries and by replay). */
export interface EventFilter {
  type?: string;
  aggregateType?: string;
  aggregateId?: string;
  userId?: string;
  correlationId?: string;
  /** Inclusive lower bound on stored_at. */
  from?: Date;
  /** Exclusive upper bound on stored_at. */
  to?: Date;
}

export interface EventQuery extends EventFilter {
  cursor?: string;
  limit: number;
}

/** A filter's SQL conditions; their values are appended to `params` as numbered placeholders. */
interface FilterConditions {
  where: string[];
  /** The time bounds alone (also in `where`), for the edges of a day walk. */
  lower: string[];
  upper: string[];
}

function eventFilterConditions(filter: EventFilter, params: unknown[]): FilterConditions {
  const where: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    const condition = sql.replace('?', `$${params.length}`);
    where.push(condition);
    return condition;
  };
  if (filter.type) add('type = ?', filter.type);
  if (filter.aggregateType) add('aggregate_type = ?', filter.aggregateType);
  // Aggregate, correlation and user ids are indexed by a 32-bit hash, after the day (migration
  // day_bucketed_lookup_indexes, and selectEvents): the hash finds the rows, the id itself
  // rules out a collision.
  const byHash = (column: string, value: string) => {
    params.push(value);
    where.push(`hashtext(${column}) = hashtext($${params.length}::text)`, `${column} = $${params.length}`);
  };
  if (filter.aggregateId) byHash('aggregate_id', filter.aggregateId);
  if (filter.userId) byHash('user_id', filter.userId);
  if (filter.correlationId) byHash('correlation_id', filter.correlationId);
  const lower = filter.from ? [add('stored_at >= ?', filter.from)] : [];
  const upper = filter.to ? [add('stored_at < ?', filter.to)] : [];
  return { where, lower, upper };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The UTC day an event was stored on: the lookup indexes lead with it. */
const storedDay = `(stored_at AT TIME ZONE 'UTC')::date`;

export interface EventSelection extends EventFilter {
  order: 'newest' | 'oldest';
  /** Keyset position, newest first only: the events stored before this one. */
  before?: { at: Date; id: string };
  limit: number;
}

/** Whether selectEvents walks the stored days: a lookup by one of the day-led indexes' ids. */
function walksDays(filter: EventFilter): boolean {
  return Boolean(filter.aggregateId || filter.userId || filter.correlationId);
}

/**
 * SQL selecting `columns` (which must include stored_at and id) of the events a selection
 * matches, in stored order; its values are appended to `params`.
 *
 * A lookup by aggregate, user or correlation id walks the stored days, newest (or oldest)
 * first, and probes each day's part of the lookup index (they lead with the day, migration
 * 20261130120000_day_bucketed_lookup_indexes): the outer LIMIT stops the walk at the day that
 * fills the page. The walk runs from the first to the last day an event was stored within the
 * selection's bounds (two probes of the stored_at index), so no clock decides which days exist.
 */
export function selectEvents(columns: string, selection: EventSelection, params: unknown[]): string {
  const { where, lower, upper } = eventFilterConditions(selection, params);
  if (selection.before) {
    params.push(selection.before.at, selection.before.id);
    const at = `$${params.length - 1}::timestamptz`;
    where.push(`(stored_at, id) < (${at}, $${params.length}::uuid)`);
    upper.push(`stored_at <= ${at}`);
  }
  params.push(selection.limit);
  const limit = `$${params.length}`;
  const order = (of = '') => (selection.order === 'newest' ? `${of}stored_at DESC, ${of}id DESC` : `${of}stored_at, ${of}id`);
  if (!walksDays(selection)) {
    return `SELECT ${columns} FROM domain_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order()} LIMIT ${limit}`;
  }
  const edge = (fn: 'min' | 'max', conditions: string[]) =>
    `(SELECT date_trunc('day', ${fn}(stored_at) AT TIME ZONE 'UTC') FROM domain_events${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''})`;
  const days = selection.order === 'newest'
    ? `${edge('max', upper)}, ${edge('min', lower)}, interval '-1 day'`
    : `${edge('min', lower)}, ${edge('max', upper)}, interval '1 day'`;
  // WITH ORDINALITY gives the walk an order the planner knows, so the outer ORDER BY costs an
  // incremental sort per day (already in order) and the LIMIT still stops the walk early.
  return `SELECT e.* FROM generate_series(${days}) WITH ORDINALITY AS day(at, n)
    CROSS JOIN LATERAL (
      SELECT ${columns} FROM domain_events
       WHERE ${storedDay} = day.at::date AND ${where.join(' AND ')}
       ORDER BY ${order()} LIMIT ${limit}) e
    ORDER BY day.n, ${order('e.')} LIMIT ${limit}`;
}

/**
 * Runs selectEvents. The planner prices a walk as a thousand days (its guess for any
 * generate_series) times a probe, which put it over the server's JIT thresholds: with 5M
 * events stored, lookups that execute in under a millisecond spent 10-140 ms compiling. A walk
 * runs with JIT off, in a transaction of its own; any other selection is one plain statement.
 */
export async function loadSelection<R extends { id: string }>(pool: Pool, columns: string, selection: EventSelection): Promise<R[]> {
  const params: unknown[] = [];
  const sql = selectEvents(columns, selection, params);
  if (!walksDays(selection)) return (await pool.query<R>(sql, params)).rows;
  return withTransaction(pool, async (client) => (await client.query<R>(sql, params)).rows, ['SET LOCAL jit = off']);
}

/**
 * Newest first, keyset-paginated on (stored_at, id): a page never repeats or skips a row,
 * whatever is inserted meanwhile (new rows sort before the cursor and are not revisited).
 */
export async function queryEvents(pool: Pool, query: EventQuery): Promise<Page<StoredEvent>> {
  const rows = await loadSelection<EventRow>(pool, eventColumns, {
    ...query,
    order: 'newest',
    before: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { items: page.map(rowToEvent), nextCursor: more && last ? encodeCursor(last.stored_at, last.id) : null };
}

export interface AttemptView {
  attempt: number;
  status: string;
  providerResponse: unknown;
  error: string | null;
  errorCode: string | null;
  latencyMs: number | null;
  at: string;
}

export interface DeliveryView {
  id: string;
  channel: string;
  status: string;
  priority: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  lastErrorCode: string | null;
  providerMessageId: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  history: AttemptView[];
}

export interface NotificationView {
  id: string;
  eventId: string;
  userId: string;
  eventType: string;
  priority: string;
  locale: string;
  createdAt: string;
  completedAt: string | null;
  outcome: string | null;
  deliveries: DeliveryView[];
}

export interface EventProcessing {
  /**
   * processed: every durable handler has run. pending: the handlers still owe it a run (after a
   * failure, not before retryAt). quarantined: they gave up after EVENT_MAX_PROCESS_ATTEMPTS,
   * and only a replay tries again.
   */
  state: 'processed' | 'pending' | 'quarantined';
  /** Failed runs since the event was stored or last replayed; 0 once processed. */
  failedAttempts: number;
  lastError: string | null;
  retryAt: string | null;
}

export type EventTrace = StoredEvent & {
  processing: EventProcessing;
  notifications: NotificationView[];
};

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));

/** Loads notifications → deliveries → attempts for the given notification ids (or event ids). */
export async function loadNotificationTrees(
  pool: Pool,
  by: { notificationIds: string[] } | { eventIds: string[] },
): Promise<NotificationView[]> {
  const [column, ids] = 'notificationIds' in by ? ['id', by.notificationIds] : ['event_id', by.eventIds];
  if (ids.length === 0) return [];
  const notifications = await pool.query(
    `SELECT id, event_id, user_id, event_type, priority, locale, created_at, completed_at, outcome
       FROM notifications WHERE ${column} = ANY($1::uuid[]) ORDER BY created_at, id`,
    [ids],
  );
  const notificationIds = notifications.rows.map((r) => r.id as string);
  const deliveries = notificationIds.length
    ? await pool.query(
        `SELECT id, notification_id, channel, status, priority, attempts, next_attempt_at, last_error, last_error_code,
                provider_message_id, created_at, updated_at, sent_at, delivered_at
           FROM notification_deliveries WHERE notification_id = ANY($1::uuid[]) ORDER BY channel`,
        [notificationIds],
      )
    : { rows: [] as Record<string, unknown>[] };
  const deliveryIds = deliveries.rows.map((r) => r.id as string);
  const history = deliveryIds.length
    ? await pool.query(
        `SELECT delivery_id, attempt, status, provider_response, error, error_code, latency_ms, created_at
           FROM notification_history WHERE delivery_id = ANY($1::uuid[]) ORDER BY created_at, id`,
        [deliveryIds],
      )
    : { rows: [] as Record<string, unknown>[] };

  const attemptsByDelivery = new Map<string, AttemptView[]>();
  for (const h of history.rows) {
    const list = attemptsByDelivery.get(h.delivery_id as string) ?? [];
    list.push({
      attempt: h.attempt as number,
      status: h.status as string,
      providerResponse: h.provider_response ?? null,
      error: (h.error as string | null) ?? null,
      errorCode: (h.error_code as string | null) ?? null,
      latencyMs: (h.latency_ms as number | null) ?? null,
      at: iso(h.created_at)!,
    });
    attemptsByDelivery.set(h.delivery_id as string, list);
  }
  const deliveriesByNotification = new Map<string, DeliveryView[]>();
  for (const d of deliveries.rows) {
    const list = deliveriesByNotification.get(d.notification_id as string) ?? [];
    list.push({
      id: d.id as string,
      channel: d.channel as string,
      status: d.status as string,
      priority: d.priority as string,
      attempts: d.attempts as number,
      nextAttemptAt: iso(d.next_attempt_at),
      lastError: (d.last_error as string | null) ?? null,
      lastErrorCode: (d.last_error_code as string | null) ?? null,
      providerMessageId: (d.provider_message_id as string | null) ?? null,
      createdAt: iso(d.created_at)!,
      updatedAt: iso(d.updated_at)!,
      sentAt: iso(d.sent_at),
      deliveredAt: iso(d.delivered_at),
      history: attemptsByDelivery.get(d.id as string) ?? [],
    });
    deliveriesByNotification.set(d.notification_id as string, list);
  }
  return notifications.rows.map((n) => ({
    id: n.id as string,
    eventId: n.event_id as string,
    userId: n.user_id as string,
    eventType: n.event_type as string,
    priority: n.priority as string,
    locale: n.locale as string,
    createdAt: iso(n.created_at)!,
    completedAt: iso(n.completed_at),
    outcome: (n.outcome as string | null) ?? null,
    deliveries: deliveriesByNotification.get(n.id as string) ?? [],
  }));
}

/** The full trace of one event: the event, its notifications, their deliveries and every attempt. */
export async function loadEventTrace(pool: Pool, id: string): Promise<EventTrace | null> {
  const { rows } = await pool.query<EventRow & { owed: boolean; attempts: number | null; last_error: string | null; retry_at: Date | null; quarantined_at: Date | null }>(
    `SELECT ${eventColumns}, owed.event_id IS NOT NULL AS owed, owed.attempts, owed.last_error, owed.retry_at, owed.quarantined_at
       FROM domain_events
       LEFT JOIN LATERAL (SELECT event_id, attempts, last_error, retry_at, quarantined_at FROM event_outbox WHERE event_id = $1) owed ON true
      WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    ...rowToEvent(row),
    processing: {
      state: !row.owed ? 'processed' : row.quarantined_at ? 'quarantined' : 'pending',
      failedAttempts: row.attempts ?? 0,
      lastError: row.last_error,
      retryAt: row.quarantined_at ? null : iso(row.retry_at),
    },
    notifications: await loadNotificationTrees(pool, { eventIds: [id] }),
  };
}
