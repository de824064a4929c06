import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { ChannelName } from '../../lib/channels/channel.js';
import type { PoolClient } from '../../lib/db/pool.js';
import { newRowId } from '../../lib/db/row-id.js';
import { completeNotifications, recordOutcomes, type DeliveryOutcome } from '../../lib/notifications/delivery-store.js';
import { createCustomer, deleteCustomer, testContext, transactionCompleted } from '../support/harness.js';

let ctx: AppContext;
const customers: string[] = [];

beforeAll(() => {
  ctx = testContext();
});
afterEach(async () => {
  for (const id of customers.splice(0)) await deleteCustomer(ctx, id);
});
afterAll(async () => {
  await ctx.close();
});

/** A stored event with one notification whose three deliveries are out with a provider (SENDING, attempt 1). */
async function notificationInFlight() {
  const customer = await createCustomer(ctx);
  customers.push(customer.userId);
  const stored = await ctx.bus.publish(transactionCompleted(customer));
  const notificationId = newRowId();
  await ctx.pool.query(
    `INSERT INTO notifications (id, event_id, user_id, event_type, priority, locale) VALUES ($1, $2, $3, 'transaction.completed', 'normal', 'en')`,
    [notificationId, stored.id, customer.userId],
  );
  const deliveries: Record<'push' | 'email' | 'sms', string> = { push: newRowId(), email: newRowId(), sms: newRowId() };
  for (const [channel, id] of Object.entries(deliveries)) {
    await ctx.pool.query(
      `INSERT INTO notification_deliveries (id, notification_id, channel, status, attempts, claimed_by, claimed_at, user_id, event_type, priority, content)
       VALUES ($1, $2, $3, 'SENDING', 1, 'test', now(), $4, 'transaction.completed', 'normal', '{}')`,
      [id, notificationId, channel, customer.userId],
    );
  }
  return { eventId: stored.id, notificationId, deliveries };
}

const sent = (id: string, channel: ChannelName): DeliveryOutcome => ({ id, channel, attempt: 1, status: 'SENT', latencyMs: 1, providerMessageId: `pm-${randomUUID()}` });

async function begin(): Promise<PoolClient> {
  const client = await ctx.pool.connect();
  await client.query('BEGIN');
  return client;
}

describe('notification completion', () => {
  it('completes a notification exactly once when two transactions settle its last deliveries at the same time', async () => {
    const { notificationId, deliveries } = await notificationInFlight();
    const a = await begin();
    const b = await begin();
    let aChecked!: () => void;
    const aHasChecked = new Promise<void>((resolve) => (aChecked = resolve));
    try {
      await recordOutcomes(a, [sent(deliveries.push, 'push'), sent(deliveries.email, 'email')]);
      // B settles the last delivery and checks completion while A has not committed, then waits
      // for A's own check before committing: the interleaving that used to lose the completion,
      // as two outcome batches of one notifier (or two notifiers) can run.
      const bRun = (async () => {
        await recordOutcomes(b, [sent(deliveries.sms, 'sms')]);
        const completed = await completeNotifications(b, [notificationId]);
        await aHasChecked;
        await b.query('COMMIT');
        return completed;
      })();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const aCompleted = await completeNotifications(a, [notificationId]);
      aChecked();
      await a.query('COMMIT');
      const bCompleted = await bRun;

      const completions = [...aCompleted, ...bCompleted];
      expect(completions).toHaveLength(1);
      expect(completions[0]).toMatchObject({ id: notificationId, outcome: 'sent' });
      expect(completions[0]!.channels.map((c) => [c.channel, c.status])).toEqual([['email', 'SENT'], ['push', 'SENT'], ['sms', 'SENT']]);
      const row = await ctx.pool.query(`SELECT outcome, completed_at FROM notifications WHERE id = $1`, [notificationId]);
      expect(row.rows[0]).toMatchObject({ outcome: 'sent', completed_at: expect.any(Date) });
    } finally {
      aChecked();
      await a.query('ROLLBACK').catch(() => {});
      await b.query('ROLLBACK').catch(() => {});
      a.release();
      b.release();
    }
  });

  it('does not complete a notification while one of its deliveries is still retrying, and does once it settles', async () => {
    const { notificationId, deliveries } = await notificationInFlight();
    const first = await begin();
    try {
      await recordOutcomes(first, [
        sent(deliveries.push, 'push'),
        sent(deliveries.email, 'email'),
        { id: deliveries.sms, channel: 'sms', attempt: 1, status: 'RETRYING', latencyMs: 1, errorCode: 'timeout', error: 'no answer', nextAttemptAt: new Date() },
      ]);
      expect(await completeNotifications(first, [notificationId])).toEqual([]);
      await first.query('COMMIT');
    } finally {
      first.release();
    }
    await ctx.pool.query(`UPDATE notification_deliveries SET status = 'SENDING', attempts = 2 WHERE id = $1`, [deliveries.sms]);
    const second = await begin();
    try {
      await recordOutcomes(second, [{ id: deliveries.sms, channel: 'sms', attempt: 2, status: 'FAILED', latencyMs: 1, errorCode: 'invalid_number', error: 'rejected' }]);
      const completed = await completeNotifications(second, [notificationId]);
      await second.query('COMMIT');
      expect(completed).toHaveLength(1);
      // One channel reached the customer: the notification counts as sent.
      expect(completed[0]).toMatchObject({ id: notificationId, outcome: 'sent' });
      expect(completed[0]!.channels.find((c) => c.channel === 'sms')).toMatchObject({ status: 'FAILED', error: 'rejected' });
    } finally {
      second.release();
    }
  });
});
