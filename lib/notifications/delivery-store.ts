import type { ChannelName } from '../channels/channel.js';
import type { Pool, PoolClient } from '../db/pool.js';
import type { DeliveryStatus } from './delivery-status.js';
import { heldLeaseKeysSql, leaseKeySql } from './instance-lease.js';
import { prepared } from '../db/prepared.js';

export interface ClaimedDelivery {
  id: string;
  notificationId: string;
  eventId: string;
  channel: ChannelName;
  userId: string;
  eventType: string;
  priority: string;
  content: Record<string, unknown>;
  attempt: number;
  email: string | null;
  phone: string | null;
  locale: string;
  timeZone: string;
  deviceTokens: string[];
}

export interface DeliveryOutcome {
  id: string;
  /** The delivery's channel, carried from its claim so the history row needs no lookup. */
  channel: ChannelName;
  attempt: number;
  status: Extract<DeliveryStatus, 'SENT' | 'RETRYING' | 'FAILED' | 'SKIPPED' | 'DEAD_LETTERED'>;
  error?: string;
  errorCode?: string;
  providerMessageId?: string;
  nextAttemptAt?: Date;
  latencyMs: number;
  response?: Record<string, unknown>;
  /** The attempt did not count against the budget (the channel, not the message, was at fault). */
  refundAttempt?: boolean;
}

const claimedColumns = `
  d.id, d.notification_id AS "notificationId", n.event_id AS "eventId", d.channel, d.user_id AS "userId",
  d.event_type AS "eventType", d.priority, d.content, d.attempts AS attempt,
  c.email, c.phone, coalesce(c.locale, 'en') AS locale, coalesce(c.time_zone, 'UTC') AS "timeZone",
  coalesce((SELECT array_agg(v.token ORDER BY v.created_at) FROM devices v WHERE v.user_id = d.user_id AND v.active), '{}') AS "deviceTokens"`;

/**
 * The conditional status change is the lock: only one instance can move a delivery from
 * PENDING to SENDING, so only one instance hands it to the provider.
 */
export async function claimByIds(
  db: Pool | PoolClient,
  ids: string[],
  instanceId: string,
  channels: ChannelName[],
  from: 'PENDING' | 'RETRYING' = 'PENDING',
): Promise<ClaimedDelivery[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<ClaimedDelivery>(prepared('claim-by-ids',
    `UPDATE notification_deliveries d
        SET status = 'SENDING', attempts = d.attempts + 1, claimed_at = now(), claimed_by = $2, updated_at = now()
       FROM (SELECT id, $4::text AS expected FROM unnest($1::uuid[]) AS id OFFSET 0) t,
            notifications n LEFT JOIN customers c ON c.user_id = n.user_id
      -- The expected status is a column of t (OFFSET 0 keeps it one), not a constant, so no
      -- partial index over statuses can look cheaper to the planner than the primary key.
      WHERE d.id = t.id AND d.status = t.expected AND n.id = d.notification_id AND d.channel = ANY($3::text[])
      RETURNING ${claimedColumns}`,
    [ids, instanceId, channels, from],
  ));
  return rows;
}

export interface DueClaimOptions {
  limit: number;
  /** PENDING rows younger than this are still the fast path's to send. */
  pendingGraceMs: number;
  /** SENDING rows whose claiming instance lost its lease lock and has not heartbeated for this long were orphaned by a crash. */
  staleSendingMs: number;
  /** RETRYING rows are the retry queue's; the poller takes them only this long after they were due. */
  retryingSlackMs: number;
  channels: ChannelName[];
}

/**
 * The durable path: everything that is due, whatever happened to the hint or job that
 * should have carried it. SKIP LOCKED lets several notifiers poll at once.
 */
export async function claimDue(db: Pool | PoolClient, instanceId: string, o: DueClaimOptions): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query<ClaimedDelivery>(
    dueClaimSql,
    [instanceId, o.limit, o.pendingGraceMs, o.staleSendingMs, o.retryingSlackMs, o.channels],
  );
  return rows;
}

/**
 * Walks the in-flight index in due order (in_flight is its predicate, the ORDER BY its key) and
 * stops after the limit, so a claim reads about the rows it takes however long the backlog is.
 */
export const dueClaimSql = `WITH due AS (
       SELECT id FROM notification_deliveries
        WHERE in_flight AND channel = ANY($6::text[])
          AND CASE status
                WHEN 'PENDING' THEN created_at < now() - make_interval(secs => $3::double precision / 1000)
                -- Orphaned: its instance (never this one, which is evidently alive) holds no lease
                -- lock and has not heartbeated for a stale period. An instance dies at least 0.8 of
                -- a stale period before it looks dead, so younger claims are skipped cheaply first.
                WHEN 'SENDING' THEN (claimed_by <> $1
                    AND claimed_at < now() - make_interval(secs => $4::double precision / 2000)
                    AND ${leaseKeySql('claimed_by')} NOT IN (${heldLeaseKeysSql})
                    AND claimed_by NOT IN (SELECT i.instance_id FROM notifier_instances i
                                            WHERE i.heartbeat_at > now() - make_interval(secs => $4::double precision / 1000)))
                  -- A live instance that could not write an outcome for ten stale periods is stuck.
                  OR claimed_at < now() - make_interval(secs => $4::double precision / 100)
                WHEN 'RETRYING' THEN next_attempt_at < now() - make_interval(secs => $5::double precision / 1000)
                ELSE next_attempt_at <= now()
              END
        ORDER BY coalesce(next_attempt_at, created_at)
        LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE notification_deliveries d
        SET status = 'SENDING', attempts = d.attempts + 1, claimed_at = now(), claimed_by = $1, updated_at = now()
       FROM notifications n LEFT JOIN customers c ON c.user_id = n.user_id
      -- An array of ids, not a join with due: joined, statistics from when the table was small
      -- let the planner read every delivery and probe due once per row.
      WHERE d.id = ANY(ARRAY(SELECT id FROM due)) AND n.id = d.notification_id
      RETURNING ${claimedColumns}`;

/**
 * The CTEs that send deliveries back to PENDING from `source` (a CTE yielding their id, channel
 * and notification_id): each notification is open again, so it completes (and announces) anew,
 * and each delivery's history says why it was reopened.
 */
export function reopenDeliveriesCtes(source: string, reason: 'replayed' | 'retried by operator'): string {
  return `reopened AS (UPDATE notifications SET completed_at = NULL, outcome = NULL WHERE id IN (SELECT notification_id FROM ${source}))
       , logged AS (INSERT INTO notification_history (delivery_id, channel, attempt, status, error)
                    SELECT id, channel, 0, 'PENDING', '${reason}' FROM ${source})`;
}

export interface RecordedOutcome {
  id: string;
  notificationId: string;
  status: DeliveryStatus;
  channel: ChannelName;
  userId: string;
  eventType: string;
}

/**
 * Writes a batch of send outcomes and their history rows in one statement. An outcome only
 * lands if the delivery is still in the attempt it describes: a late answer from an
 * orphaned send never overwrites a newer attempt. History always keeps every attempt.
 *
 * It also locks the notification of every delivery it settles, until commit. Two
 * transactions settling the last deliveries of one notification would otherwise each check
 * completion before the other committed, each see the other's delivery still in flight, and
 * leave the notification incomplete for good (no notification.sent). With the lock, the
 * second one's completion check starts after the first committed.
 */
export async function recordOutcomes(db: Pool | PoolClient, outcomes: DeliveryOutcome[]): Promise<RecordedOutcome[]> {
  if (outcomes.length === 0) return [];
  const rows = outcomes.map((o) => ({
    id: o.id,
    channel: o.channel,
    attempt: o.attempt,
    expected: 'SENDING',
    status: o.status,
    error: o.error?.slice(0, 2_000) ?? null,
    error_code: o.errorCode ?? null,
    provider_message_id: o.providerMessageId ?? null,
    next_attempt_at: o.nextAttemptAt?.toISOString() ?? null,
    latency_ms: Math.round(o.latencyMs),
    response: o.response ?? null,
    refund: o.refundAttempt ?? false,
  }));
  const { rows: updated } = await db.query<RecordedOutcome>(prepared('record-outcomes',
    `WITH o AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, channel text, attempt int, expected text, status text, error text, error_code text,
              provider_message_id text, next_attempt_at timestamptz, latency_ms int, response jsonb, refund boolean))
     , upd AS (
       UPDATE notification_deliveries d
          SET status = o.status, last_error = o.error, last_error_code = o.error_code,
              provider_message_id = coalesce(o.provider_message_id, d.provider_message_id),
              next_attempt_at = o.next_attempt_at,
              attempts = CASE WHEN o.refund THEN d.attempts - 1 ELSE d.attempts END,
              sent_at = CASE WHEN o.status = 'SENT' THEN now() ELSE d.sent_at END,
              claimed_at = NULL, claimed_by = NULL, updated_at = now()
         -- The expected status comes from o, not a literal, for the same reason as in
         -- claimByIds: each outcome is looked up by primary key, whatever the statistics say.
         FROM o WHERE d.id = o.id AND d.status = o.expected AND d.attempts = o.attempt
       RETURNING d.id, d.notification_id AS "notificationId", d.status, d.channel, d.attempts, d.last_error,
                 d.user_id AS "userId", d.event_type AS "eventType")
     , history AS (
       INSERT INTO notification_history (delivery_id, channel, attempt, status, provider_response, error, error_code, latency_ms)
       SELECT o.id, o.channel, o.attempt, o.status, o.response, o.error, o.error_code, o.latency_ms FROM o)
     , dead AS (
       INSERT INTO dead_letters (delivery_id, channel, reason, last_error, attempts)
       SELECT id, channel, 'retries_exhausted', last_error, attempts FROM upd WHERE status = 'DEAD_LETTERED'
       ON CONFLICT (delivery_id) DO UPDATE SET dead_lettered_at = now(), last_error = excluded.last_error,
              attempts = excluded.attempts, retried_at = NULL, discarded_at = NULL, discard_reason = NULL)
     , settling AS (
       SELECT n.id FROM notifications n
        WHERE n.id IN (SELECT "notificationId" FROM upd WHERE status <> 'RETRYING')
        ORDER BY n.id FOR NO KEY UPDATE)
     -- The count makes the locking CTE run (one nobody reads is skipped).
     SELECT id, "notificationId", status, channel, "userId", "eventType" FROM upd WHERE (SELECT count(*) FROM settling) >= 0`,
    [JSON.stringify(rows)],
  ));
  return updated;
}

export interface CompletedNotification {
  id: string;
  eventId: string;
  userId: string;
  eventType: string;
  outcome: 'sent' | 'failed';
  correlationId: string | null;
  channels: { channel: ChannelName; deliveryId: string; status: string; error?: string }[];
}

/**
 * Marks notifications whose deliveries are all terminal as complete, exactly once (the
 * conditional update), and returns them so that notification.sent/failed can be published.
 * Each notification's deliveries are read through the (notification_id, channel) index, one
 * notification at a time: the cost follows the batch, never the number of notifications in
 * flight, whatever the planner's statistics say.
 */
export async function completeNotifications(client: PoolClient, notificationIds: string[]): Promise<CompletedNotification[]> {
  if (notificationIds.length === 0) return [];
  const { rows } = await client.query<CompletedNotification>(prepared('complete-notifications',
    `WITH settled AS (
       SELECT ids.id, s.any_sent, s.channels
         FROM (SELECT DISTINCT unnest($1::uuid[]) AS id) ids
        CROSS JOIN LATERAL (
          SELECT bool_or(d.status IN ('SENT', 'DELIVERED')) AS any_sent,
                 bool_or(d.status IN ('PENDING', 'SENDING', 'RETRYING', 'DEFERRED')) AS open,
                 json_agg(json_build_object('channel', d.channel, 'deliveryId', d.id, 'status', d.status, 'error', d.last_error)
                          ORDER BY d.channel) AS channels
            FROM notification_deliveries d WHERE d.notification_id = ids.id
          OFFSET 0) s
        WHERE NOT s.open)
     , done AS (
       UPDATE notifications n SET completed_at = now(), outcome = CASE WHEN settled.any_sent THEN 'sent' ELSE 'failed' END
         FROM settled
        WHERE n.id = settled.id AND n.completed_at IS NULL
       RETURNING n.id, n.event_id, n.user_id, n.event_type, n.outcome, settled.channels)
     SELECT done.id, done.event_id AS "eventId", done.user_id AS "userId", done.event_type AS "eventType", done.outcome,
            e.correlation_id AS "correlationId", done.channels
       FROM done JOIN domain_events e ON e.id = done.event_id`,
    [notificationIds],
  ));
  return rows;
}

/** Dead device tokens are switched off so nobody sends to them again. */
export async function deactivateTokens(pool: Pool, tokens: string[], reason: string): Promise<number> {
  if (tokens.length === 0) return 0;
  const result = await pool.query(
    `UPDATE devices SET active = false, deactivated_at = now(), deactivation_reason = $2
      WHERE token = ANY($1::text[]) AND active`,
    [tokens, reason],
  );
  return result.rowCount ?? 0;
}

