import type { PoolClient } from '../db/pool.js';
import { pgExecutor } from '../db/sql-executor.js';
import { parseEvent, type HeraldEvent } from '../events/envelope.js';
import { insertEvents } from '../events/event-store.js';
import type { StoredEvent } from '../events/stored-event.js';
import { notificationEvents } from '../events/catalog/notification.js';
import type { EventType } from '../events/catalog/index.js';
import { completeNotifications, type CompletedNotification, type DeliveryOutcome, type RecordedOutcome } from './delivery-store.js';

/** The events Herald raises about its own notifications; it stores them already processed. */
export const lifecycleEventTypes = Object.keys(notificationEvents) as EventType[];

/**
 * notification.dead_lettered for every delivery that just ran out of attempts, and
 * notification.sent/failed for every notification whose last delivery just settled.
 */
export async function lifecycleEvents(client: PoolClient, recorded: RecordedOutcome[], outcomes: Map<string, DeliveryOutcome>): Promise<HeraldEvent[]> {
  const settled = [...new Set(recorded.filter((r) => r.status !== 'RETRYING').map((r) => r.notificationId))];
  if (settled.length === 0) return [];
  const dead = recorded.filter((r) => r.status === 'DEAD_LETTERED');
  const completed = await completionEvents(client, settled);
  const deadContext = dead.length
    ? (await client.query<{ id: string; event_id: string; user_id: string; correlation_id: string | null }>(
        `SELECT n.id, n.event_id, n.user_id, e.correlation_id FROM notifications n JOIN domain_events e ON e.id = n.event_id
          WHERE n.id = ANY($1::uuid[])`, [dead.map((d) => d.notificationId)])).rows
    : [];
  const byNotification = new Map(deadContext.map((r) => [r.id, r]));
  return [
    ...dead.map((d) => {
      const n = byNotification.get(d.notificationId)!;
      const outcome = outcomes.get(d.id);
      return parseEvent({
        type: 'notification.dead_lettered',
        aggregateType: 'notification',
        aggregateId: d.notificationId,
        payload: {
          notificationId: d.notificationId, deliveryId: d.id, eventId: n.event_id, channel: d.channel,
          attempts: outcome?.attempt ?? 0, ...(outcome?.error ? { lastError: outcome.error.slice(0, 1_000) } : {}),
        },
        metadata: { userId: n.user_id, causationId: n.event_id, ...(n.correlation_id ? { correlationId: n.correlation_id } : {}), source: 'herald.notifier' },
      });
    }),
    ...completed,
  ];
}

/**
 * Notifications that settled without any send (every channel skipped at fan-out: opted out,
 * no contact) are completed there and then, or nothing would ever announce them.
 */
export async function completionEvents(client: PoolClient, notificationIds: string[]): Promise<HeraldEvent[]> {
  return (await completeNotifications(client, notificationIds)).map(completionEvent);
}

/**
 * These events are facts for outside subscribers: no durable handler consumes them, so they
 * are stored already processed (no outbox row) and cost the sweeper nothing. Returns the ones
 * to broadcast after commit.
 */
export async function storeLifecycleEvents(client: PoolClient, events: HeraldEvent[]): Promise<StoredEvent[]> {
  const stored = await insertEvents(pgExecutor(client), events, { processed: true });
  return stored.filter((s) => !s.duplicate).map((s) => s.event);
}

function completionEvent(n: CompletedNotification): HeraldEvent {
  return parseEvent({
    type: n.outcome === 'sent' ? 'notification.sent' : 'notification.failed',
    aggregateType: 'notification',
    aggregateId: n.id,
    payload: {
      notificationId: n.id,
      eventId: n.eventId,
      eventType: n.eventType,
      userId: n.userId,
      channels: n.channels.map((c) => ({ channel: c.channel, deliveryId: c.deliveryId, status: c.status, ...(c.error ? { error: c.error.slice(0, 500) } : {}) })),
    },
    metadata: { userId: n.userId, causationId: n.eventId, ...(n.correlationId ? { correlationId: n.correlationId } : {}), source: 'herald.notifier' },
  });
}
