import { newRowId } from '../db/row-id.js';
import type { ChannelName } from '../channels/channel.js';
import { reopenDeliveriesCtes, type ClaimedDelivery } from './delivery-store.js';
import type { AfterCommit, DurableHandler, HandlerContext } from '../events/event-processor.js';
import type { StoredEvent } from '../events/stored-event.js';
import type { Logger } from '../logger.js';
import { decideDelivery, type RecentSends } from './delivery-policy.js';
import { loadAccountOwners, loadProfiles, loadRecentSends } from './recipient-profiles.js';
import { priorityOf, routedEventTypes, ruleFor } from './routing.js';
import type { TemplateRenderer } from './templates/template-renderer.js';
import { prepared } from '../db/prepared.js';
import { completionEvents, storeLifecycleEvents } from './lifecycle-events.js';
import { inFlightStatuses, type DeliveryStatus } from './delivery-status.js';

/** New deliveries, handed over once their rows are committed. */
export interface FanOutWork {
  /** PENDING rows, still to be claimed. */
  pending: string[];
  /** Rows written already claimed by this instance (SENDING, attempt 1): to be sent as they are. */
  claimed: ClaimedDelivery[];
}

export interface FanOutOptions {
  renderer: TemplateRenderer;
  logger: Logger;
  dispatch: (work: FanOutWork) => Promise<unknown>;
  /**
   * When set, deliveries on the channels this instance can send on now are inserted already
   * claimed by it, which saves the claim's write of every row. A crash before the send leaves
   * them SENDING under a dead lease, which the due-delivery poller rescues like any orphan.
   */
  preclaim?: { instanceId: string; channels: () => ChannelName[] };
  /** Announces, after commit, the notifications fan-out itself completed (nothing to send). */
  broadcast?: (events: StoredEvent[]) => Promise<void>;
  now?: () => Date;
}

interface DeliveryRow {
  id: string;
  notification_id: string;
  channel: ChannelName;
  status: string;
  attempts: number;
  claimed_by: string | null;
  user_id: string;
  event_type: string;
  priority: string;
  content: unknown;
  next_attempt_at: string | null;
  last_error: string | null;
}

/**
 * Turns routed events into one notification per recipient and one delivery per channel,
 * written set-based in the claim transaction. Unique keys (event × user, notification ×
 * channel) make a second run a no-op, so redelivery and replay never double a send.
 */
export function createFanOutHandler(options: FanOutOptions): DurableHandler {
  const now = options.now ?? (() => new Date());
  return {
    name: 'notifications.fan-out',
    types: routedEventTypes,
    async handle(events: StoredEvent[], { client, replay }: HandlerContext): Promise<AfterCommit | void> {
      const at = now();
      const needOwner = events.filter((e) => !recipientOf(e) && ruleFor(e.type)?.recipient === 'accountOwner');
      const owners = await loadAccountOwners(client, unique(needOwner.map((e) => accountOf(e)).filter(isString)));
      const targets = events.flatMap((event) => {
        const rule = ruleFor(event.type)!;
        const userId = recipientOf(event) ?? (rule.recipient === 'accountOwner' ? owners.get(accountOf(event) ?? '') : undefined);
        if (!userId) {
          options.logger.warn({ eventId: event.id, type: event.type }, 'no recipient for event; nothing to notify');
          return [];
        }
        return [{ event, userId, rule }];
      });
      if (targets.length === 0) return;

      const userIds = unique(targets.map((t) => t.userId));
      const profiles = await loadProfiles(client, userIds);
      const capped = userIds.filter((u) => Object.keys(profiles.get(u)?.preferences?.frequencyCaps ?? {}).length > 0);
      const recent = await loadRecentSends(client, capped);

      const preclaimable = new Set(options.preclaim?.channels() ?? []);
      // A replay may remap a planned row onto an existing notification; it claims the usual way.
      const claimedBy = replay ? null : (options.preclaim?.instanceId ?? null);
      const notifications: Record<string, unknown>[] = [];
      const deliveries: DeliveryRow[] = [];
      const claims = new Map<string, ClaimedDelivery>();
      for (const { event, userId, rule } of targets) {
        const profile = profiles.get(userId);
        const priority = priorityOf(rule, event);
        const locale = profile?.locale ?? 'en';
        const notificationId = newRowId();
        notifications.push({ id: notificationId, event_id: event.id, user_id: userId, event_type: event.type, priority, locale });
        for (const channel of rule.channels) {
          const key = `${userId}:${channel}` as const;
          const sends: RecentSends = recent.get(key) ?? { count: 0, oldest: null };
          const decision = decideDelivery(channel, priority, profile, sends, at);
          // Later events in this same batch count against the cap too.
          if (decision.status === 'PENDING') recent.set(key, { count: sends.count + 1, oldest: sends.oldest ?? at });
          const content =
            decision.status === 'SKIPPED'
              ? {}
              : options.renderer.render(event, channel, { locale, timeZone: profile?.timeZone ?? 'UTC' });
          const id = newRowId();
          const claim = decision.status === 'PENDING' && claimedBy !== null && preclaimable.has(channel);
          if (claim) {
            claims.set(id, {
              id, notificationId, eventId: event.id, channel, userId, eventType: event.type, priority,
              content: content as Record<string, unknown>, attempt: 1,
              email: profile?.email ?? null, phone: profile?.phone ?? null, locale, timeZone: profile?.timeZone ?? 'UTC',
              deviceTokens: profile?.deviceTokens ?? [],
            });
          }
          deliveries.push({
            id,
            notification_id: notificationId,
            channel,
            status: claim ? 'SENDING' : decision.status,
            attempts: claim ? 1 : 0,
            claimed_by: claim ? claimedBy : null,
            user_id: userId,
            event_type: event.type,
            priority,
            content,
            next_attempt_at: decision.status === 'DEFERRED' ? decision.until.toISOString() : null,
            last_error: decision.status === 'PENDING' ? null : decision.reason,
          });
        }
      }

      // One statement writes the notifications and the deliveries of those that are new.
      const written = await client.query<InsertedRow>(prepared('insert-notifications-and-deliveries',
        `WITH n AS (
           INSERT INTO notifications (id, event_id, user_id, event_type, priority, locale)
           SELECT id, event_id, user_id, event_type, priority, locale
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, event_id uuid, user_id text, event_type text, priority text, locale text)
           ON CONFLICT (event_id, user_id) DO NOTHING
           RETURNING id)
         , ${insertDeliveriesCte('$2', 'WHERE x.notification_id IN (SELECT id FROM n)')}
         SELECT NULL::uuid AS id, id AS notification_id, NULL AS status FROM n
         UNION ALL SELECT id, notification_id, status FROM d`,
        [JSON.stringify(notifications), JSON.stringify(deliveries)],
      ));
      const fresh = new Set(written.rows.filter((r) => r.id === null).map((r) => r.notification_id));
      const rows = written.rows.filter((r): r is WrittenDelivery => r.id !== null);
      if (replay) {
        const missing = await deliveriesMissingOnReplay(client, notifications, deliveries, fresh);
        if (missing.length > 0) {
          rows.push(...(await client.query<WrittenDelivery>(
            `WITH ${insertDeliveriesCte('$1', '')} SELECT id, notification_id, status FROM d`, [JSON.stringify(missing)],
          )).rows);
        }
      }

      const pending: string[] = [];
      const claimed: ClaimedDelivery[] = [];
      let announced: StoredEvent[] = [];
      if (rows.length > 0) {
        const open = new Set<string>();
        for (const row of rows) {
          if (row.status === 'PENDING') pending.push(row.id);
          else if (row.status === 'SENDING') claimed.push(claims.get(row.id)!);
          if (inFlightStatuses.includes(row.status as DeliveryStatus)) open.add(row.notification_id);
        }
        const unsent = [...new Set(rows.map((r) => r.notification_id))].filter((id) => !open.has(id));
        if (unsent.length > 0) announced = await storeLifecycleEvents(client, await completionEvents(client, unsent));
      }
      if (replay) pending.push(...(await resetFailedOnReplay(client, events.map((e) => e.id))));
      if (pending.length === 0 && claimed.length === 0 && announced.length === 0) return;
      return async () => {
        if (announced.length > 0) await options.broadcast?.(announced);
        if (pending.length > 0 || claimed.length > 0) await options.dispatch({ pending, claimed });
      };
    },
  };
}

interface WrittenDelivery {
  id: string;
  notification_id: string;
  status: string;
}

/** A written delivery, or (id and status NULL) a new notification, its id in notification_id. */
type InsertedRow = WrittenDelivery | { id: null; notification_id: string; status: null };

/** `d`: the deliveries in the jsonb array `param` that pass `where`, inserted; and their history for those born final. */
function insertDeliveriesCte(param: string, where: string): string {
  return `d AS (
           INSERT INTO notification_deliveries (id, notification_id, channel, status, attempts, claimed_by, claimed_at,
                  user_id, event_type, priority, content, next_attempt_at, last_error)
           SELECT id, notification_id, channel, status, attempts, claimed_by, CASE WHEN claimed_by IS NOT NULL THEN now() END,
                  user_id, event_type, priority, content, next_attempt_at, last_error
             FROM jsonb_to_recordset(${param}::jsonb) AS x(id uuid, notification_id uuid, channel text, status text, attempts int,
                  claimed_by text, user_id text, event_type text, priority text, content jsonb, next_attempt_at timestamptz, last_error text)
           ${where}
           ON CONFLICT (notification_id, channel) DO NOTHING
           RETURNING id, notification_id, channel, status, last_error)
         , h AS (
           INSERT INTO notification_history (delivery_id, channel, attempt, status, error)
           SELECT id, channel, 0, status, last_error FROM d WHERE status NOT IN ('PENDING', 'SENDING'))`;
}

/** On replay, existing notifications may lack a delivery for a channel routed since. */
async function deliveriesMissingOnReplay(
  client: HandlerContext['client'],
  notifications: Record<string, unknown>[],
  deliveries: DeliveryRow[],
  fresh: Set<string>,
): Promise<DeliveryRow[]> {
  const stale = notifications.filter((n) => !fresh.has(n.id as string));
  if (stale.length === 0) return [];
  const { rows } = await client.query<{ id: string; event_id: string; user_id: string }>(
    `SELECT id, event_id, user_id FROM notifications WHERE (event_id, user_id) IN
       (SELECT * FROM unnest($1::uuid[], $2::text[]))`,
    [stale.map((n) => n.event_id), stale.map((n) => n.user_id)],
  );
  const existingId = new Map(rows.map((r) => [`${r.event_id}:${r.user_id}`, r.id]));
  const plannedId = new Map(stale.map((n) => [n.id as string, existingId.get(`${n.event_id}:${n.user_id}`)]));
  return deliveries
    .filter((d) => plannedId.get(d.notification_id))
    .map((d) => ({ ...d, notification_id: plannedId.get(d.notification_id)! }));
}

/**
 * Replay gives failed and dead-lettered deliveries a fresh attempt budget; anything SENT or
 * DELIVERED is left alone, so a replay never shows the customer a message twice.
 */
async function resetFailedOnReplay(client: HandlerContext['client'], eventIds: string[]): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `WITH reset AS (
       UPDATE notification_deliveries d SET status = 'PENDING', attempts = 0, next_attempt_at = NULL, updated_at = now()
         FROM notifications n
        WHERE n.id = d.notification_id AND n.event_id = ANY($1::uuid[]) AND d.status IN ('FAILED', 'DEAD_LETTERED')
       RETURNING d.id, d.channel, d.notification_id)
     , ${reopenDeliveriesCtes('reset', 'replayed')}
     SELECT id FROM reset`,
    [eventIds],
  );
  return rows.map((r) => r.id);
}

function recipientOf(event: StoredEvent): string | undefined {
  const payload = event.payload as { userId?: unknown };
  return event.metadata.userId ?? (typeof payload.userId === 'string' ? payload.userId : undefined);
}

function accountOf(event: StoredEvent): string | undefined {
  const payload = event.payload as { accountNumber?: unknown };
  return typeof payload.accountNumber === 'string' ? payload.accountNumber : undefined;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const unique = <T>(values: T[]): T[] => [...new Set(values)];
