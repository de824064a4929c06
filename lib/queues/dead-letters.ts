import type { ChannelName } from '../channels/channel.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { decodeCursor, encodeCursor } from '../api/cursor.js';
import { reopenDeliveriesCtes } from '../notifications/delivery-store.js';

export interface DeadLetterView {
  deliveryId: string;
  notificationId: string;
  eventId: string;
  eventType: string;
  userId: string;
  channel: ChannelName;
  status: string;
  reason: string;
  lastError: string | null;
  attempts: number;
  deadLetteredAt: string;
  retriedAt: string | null;
  discardedAt: string | null;
  discardReason: string | null;
}

export interface DeadLetterFilter {
  channel?: ChannelName;
  eventType?: string;
  userId?: string;
  /** Also list entries already retried or discarded. */
  includeResolved?: boolean;
  cursor?: string;
  limit: number;
}

const columns = `
  dl.delivery_id AS "deliveryId", d.notification_id AS "notificationId", n.event_id AS "eventId",
  d.event_type AS "eventType", d.user_id AS "userId", dl.channel, d.status, dl.reason, dl.last_error AS "lastError",
  dl.attempts, dl.dead_lettered_at AS "deadLetteredAt", dl.retried_at AS "retriedAt",
  dl.discarded_at AS "discardedAt", dl.discard_reason AS "discardReason"`;

/** Newest first, keyset-paginated on (dead_lettered_at, delivery_id). */
export async function listDeadLetters(pool: Pool, filter: DeadLetterFilter): Promise<{ items: DeadLetterView[]; nextCursor: string | null }> {
  const cursor = filter.cursor ? decodeCursor(filter.cursor) : null;
  const { rows } = await pool.query<DeadLetterView & { deadLetteredAt: Date }>(
    `SELECT ${columns}
       FROM dead_letters dl JOIN notification_deliveries d ON d.id = dl.delivery_id JOIN notifications n ON n.id = d.notification_id
      WHERE ($1::text IS NULL OR dl.channel = $1) AND ($2::text IS NULL OR d.event_type = $2) AND ($3::text IS NULL OR d.user_id = $3)
        AND ($4::boolean OR (dl.retried_at IS NULL AND dl.discarded_at IS NULL))
        AND ($5::timestamptz IS NULL OR (dl.dead_lettered_at, dl.delivery_id) < ($5::timestamptz, $6::uuid))
      ORDER BY dl.dead_lettered_at DESC, dl.delivery_id DESC
      LIMIT $7`,
    [filter.channel ?? null, filter.eventType ?? null, filter.userId ?? null, filter.includeResolved ?? false,
     cursor?.at ?? null, cursor?.id ?? null, filter.limit + 1],
  );
  const items = rows.slice(0, filter.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((row) => serialize(row)),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.deadLetteredAt, last.deliveryId) : null,
  };
}

/** One dead letter with every attempt, for an operator deciding what to do with it. */
export async function showDeadLetter(pool: Pool, deliveryId: string) {
  const { rows } = await pool.query(`SELECT ${columns}, d.content
       FROM dead_letters dl JOIN notification_deliveries d ON d.id = dl.delivery_id JOIN notifications n ON n.id = d.notification_id
      WHERE dl.delivery_id = $1`, [deliveryId]);
  if (rows.length === 0) return null;
  const history = await pool.query(
    `SELECT attempt, status, error, error_code AS "errorCode", provider_response AS "providerResponse", latency_ms AS "latencyMs", created_at AS "at"
       FROM notification_history WHERE delivery_id = $1 ORDER BY id`,
    [deliveryId],
  );
  return { ...serialize(rows[0]), history: history.rows };
}

/**
 * Gives dead-lettered deliveries a fresh attempt budget. The delivery keeps its id, so the
 * resend carries the same idempotency mark; the notifiers' pollers pick it up as PENDING.
 */
export async function retryDeadLetters(pool: Pool, deliveryIds: string[]): Promise<{ retried: string[]; notFound: string[] }> {
  const ids = [...new Set(deliveryIds)];
  if (ids.length === 0) return { retried: [], notFound: [] };
  const retried = await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `WITH r AS (
         UPDATE notification_deliveries d SET status = 'PENDING', attempts = 0, next_attempt_at = NULL,
                last_error = NULL, last_error_code = NULL, updated_at = now()
           FROM dead_letters dl
          WHERE dl.delivery_id = d.id AND d.id = ANY($1::uuid[]) AND d.status = 'DEAD_LETTERED' AND dl.discarded_at IS NULL
         RETURNING d.id, d.channel, d.notification_id)
       , marked AS (UPDATE dead_letters SET retried_at = now() WHERE delivery_id IN (SELECT id FROM r))
       , ${reopenDeliveriesCtes('r', 'retried by operator')}
       SELECT id FROM r`,
      [ids],
    );
    return rows.map((r) => r.id);
  });
  const done = new Set(retried);
  return { retried, notFound: ids.filter((id) => !done.has(id)) };
}

/** Closes a dead letter for good, keeping the reason for the audit trail. */
export async function discardDeadLetter(pool: Pool, deliveryId: string, reason: string): Promise<boolean> {
  const result = await pool.query(
    `UPDATE dead_letters SET discarded_at = now(), discard_reason = $2
      WHERE delivery_id = $1 AND discarded_at IS NULL AND retried_at IS NULL`,
    [deliveryId, reason],
  );
  return (result.rowCount ?? 0) > 0;
}

function serialize(row: object): DeadLetterView {
  const r = row as Record<string, unknown>;
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : (v as string | null));
  return { ...(r as unknown as DeadLetterView), deadLetteredAt: iso(r.deadLetteredAt)!, retriedAt: iso(r.retriedAt), discardedAt: iso(r.discardedAt) };
}
