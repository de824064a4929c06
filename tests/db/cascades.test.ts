// The hot-path tables carry no foreign keys (see the hot_path_cascades migration); deleting a
// parent must still delete everything below it, as ON DELETE CASCADE did.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import { createCustomer, deleteCustomer, deliveriesOf, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';

let ctx: AppContext;
const users: string[] = [];

beforeAll(() => {
  ctx = testContext();
});
afterAll(async () => {
  for (const userId of users) await deleteCustomer(ctx, userId);
  await ctx.close();
});

async function countsFor(eventId: string) {
  const { rows } = await ctx.pool.query<{ outbox: number; notifications: number; deliveries: number; history: number }>(
    `SELECT (SELECT count(*)::int FROM event_outbox WHERE event_id = $1) AS outbox,
            (SELECT count(*)::int FROM notifications WHERE event_id = $1) AS notifications,
            (SELECT count(*)::int FROM notification_deliveries d WHERE d.notification_id IN (SELECT id FROM notifications WHERE event_id = $1)) AS deliveries,
            (SELECT count(*)::int FROM notification_history h
              WHERE h.delivery_id IN (SELECT d.id FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.event_id = $1)) AS history`,
    [eventId],
  );
  return rows[0]!;
}

describe('deleting a parent row', () => {
  it("takes an unprocessed event's outbox row with it", async () => {
    const c = await createCustomer(ctx);
    users.push(c.userId);
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);
    expect((await countsFor(event.id)).outbox).toBe(1);
    await ctx.pool.query('DELETE FROM domain_events WHERE id = $1', [event.id]);
    expect(await countsFor(event.id)).toEqual({ outbox: 0, notifications: 0, deliveries: 0, history: 0 });
  });

  it("takes a delivered event's notification, deliveries and history with it, and nothing of another event", async () => {
    const channels = { push: new SandboxChannel('push'), email: new SandboxChannel('email'), sms: new SandboxChannel('sms') };
    const notifier = await startTestNotifier(ctx, channels);
    try {
      const c = await createCustomer(ctx);
      users.push(c.userId);
      const [gone, kept] = [transactionCompleted(c), transactionCompleted(c)];
      await ctx.bus.publish(gone);
      await ctx.bus.publish(kept);
      for (const e of [gone, kept]) {
        await waitFor(async () => (await deliveriesOf(ctx, e.id)).filter((d) => d.status === 'SENT').length === 3, 10_000, 'three SENT deliveries');
      }
      const before = await countsFor(kept.id);
      expect(before).toMatchObject({ outbox: 0, notifications: 1, deliveries: 3 });
      expect(before.history).toBeGreaterThanOrEqual(3);

      await ctx.pool.query('DELETE FROM domain_events WHERE id = $1', [gone.id]);
      expect(await countsFor(gone.id)).toEqual({ outbox: 0, notifications: 0, deliveries: 0, history: 0 });
      expect(await countsFor(kept.id)).toEqual(before);

      // One level down: deleting a delivery takes its history, not its siblings'.
      const [first, ...rest] = await deliveriesOf(ctx, kept.id);
      await ctx.pool.query('DELETE FROM notification_deliveries WHERE id = $1', [first!.id]);
      const { rows } = await ctx.pool.query<{ delivery_id: string }>('SELECT DISTINCT delivery_id FROM notification_history WHERE delivery_id = ANY($1::uuid[])', [[first!.id, ...rest.map((d) => d.id)]]);
      expect(rows.map((r) => r.delivery_id).sort()).toEqual(rest.map((d) => d.id).sort());
    } finally {
      await notifier.stop();
    }
  });
});
