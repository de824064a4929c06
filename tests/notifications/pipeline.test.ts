import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import { createChannelHealth } from '../../lib/channels/channel-health.js';
import type { ChannelSet } from '../../lib/channels/channel.js';
import type { Notifier } from '../../lib/notifications/notifier.js';
import { createCustomer, deleteCustomer, deliveriesOf, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';

let ctx: AppContext;
const customers: string[] = [];
const running: Notifier[] = [];

function sandboxes() {
  return { push: new SandboxChannel('push'), email: new SandboxChannel('email'), sms: new SandboxChannel('sms') };
}
async function notifier(channels: ChannelSet, context = ctx) {
  const n = await startTestNotifier(context, channels);
  running.push(n);
  return n;
}
async function customer(options?: Parameters<typeof createCustomer>[1]) {
  const c = await createCustomer(ctx, options);
  customers.push(c.userId);
  return c;
}
/** A notifier on fresh sandbox providers, and a transaction.completed for a new customer, published. */
async function publishedToNewCustomer() {
  const channels = sandboxes();
  await notifier(channels);
  const event = transactionCompleted(await customer());
  await ctx.bus.publish(event);
  return { channels, event };
}
const allTerminal = (rows: { status: string }[], n: number) =>
  rows.length === n && rows.every((r) => ['SENT', 'SKIPPED', 'FAILED', 'DEAD_LETTERED'].includes(r.status));
/** The event's deliveries once all `n` have reached a final status. */
const settled = (eventId: string, what: string, n = 3, context = ctx) =>
  waitFor(async () => {
    const rows = await deliveriesOf(context, eventId);
    return allTerminal(rows, n) && rows;
  }, 10_000, what);

beforeAll(() => {
  ctx = testContext();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});
afterAll(async () => {
  for (const id of customers) await deleteCustomer(ctx, id);
  await ctx.close();
});

describe('publish → notification pipeline', () => {
  it('turns an event into one notification and one SENT delivery per routed channel, with history', async () => {
    const { channels, event } = await publishedToNewCustomer();

    const rows = await settled(event.id, 'three terminal deliveries');
    expect(rows.map((r) => [r.channel, r.status])).toEqual([['email', 'SENT'], ['push', 'SENT'], ['sms', 'SENT']]);
    expect(new Set(rows.map((r) => r.notification_id)).size).toBe(1);
    for (const row of rows) expect(channels[row.channel as 'push'].timesSent(row.id)).toBe(1);

    const history = await ctx.pool.query('SELECT status, attempt, latency_ms FROM notification_history WHERE delivery_id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
    expect(history.rows).toHaveLength(3);
    expect(history.rows.every((h) => h.status === 'SENT' && h.attempt === 1 && h.latency_ms >= 0)).toBe(true);

    const owed = await ctx.pool.query('SELECT 1 FROM event_outbox WHERE event_id = $1', [event.id]);
    expect(owed.rows).toEqual([]);
    const outcome = await waitFor(async () => {
      const r = await ctx.pool.query(`SELECT type, payload FROM domain_events WHERE type = 'notification.sent' AND causation_id = $1`, [event.id]);
      return r.rows[0];
    }, 5_000, 'notification.sent');
    expect(outcome.payload.channels).toHaveLength(3);
  });

  it('renders the stored content with the account masked', async () => {
    await notifier(sandboxes());
    const c = await customer();
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);
    await settled(event.id, 'deliveries');
    const { rows } = await ctx.pool.query(
      `SELECT d.channel, d.content FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.event_id = $1`,
      [event.id],
    );
    const text = JSON.stringify(rows);
    expect(text).toContain(`****${c.accountNumber.slice(-4)}`);
    expect(text).not.toContain(c.accountNumber);
    expect(text).toContain('MWK 1,250.00');
  });

  it('sends once when the same event id is published twice', async () => {
    const { channels, event } = await publishedToNewCustomer();
    await ctx.bus.publish(event);
    await settled(event.id, 'deliveries');
    await new Promise((r) => setTimeout(r, 500));
    const rows = await deliveriesOf(ctx, event.id);
    expect(rows).toHaveLength(3);
    const notifications = await ctx.pool.query('SELECT id FROM notifications WHERE event_id = $1', [event.id]);
    expect(notifications.rows).toHaveLength(1);
    for (const row of rows) expect(channels[row.channel as 'push'].timesSent(row.id)).toBe(1);
  });

  it('with two notifier instances still creates and sends each delivery exactly once', async () => {
    const a = sandboxes();
    const b = sandboxes();
    await notifier(a);
    await notifier(b);
    const c = await customer();
    const events = Array.from({ length: 40 }, () => transactionCompleted(c));
    await Promise.all(events.map((e) => ctx.bus.publish(e)));

    const ids = events.map((e) => e.id);
    const rows = await waitFor(async () => {
      const r = await ctx.pool.query<{ id: string; channel: 'push'; status: string }>(
        `SELECT d.id, d.channel, d.status FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.event_id = ANY($1::uuid[])`,
        [ids],
      );
      return allTerminal(r.rows, 120) && r.rows;
    }, 15_000, '120 terminal deliveries');
    const notifications = await ctx.pool.query('SELECT event_id, count(*)::int AS n FROM notifications WHERE event_id = ANY($1::uuid[]) GROUP BY event_id', [ids]);
    expect(notifications.rows).toHaveLength(40);
    expect(notifications.rows.every((r) => r.n === 1)).toBe(true);
    for (const row of rows) {
      expect(row.status).toBe('SENT');
      expect(a[row.channel].timesSent(row.id) + b[row.channel].timesSent(row.id)).toBe(1);
    }
  });

  it('sends nothing for an event published in a transaction that rolled back', async () => {
    const channels = sandboxes();
    await notifier(channels);
    const c = await customer();
    const event = transactionCompleted(c);
    await ctx.prisma
      .$transaction(async (tx) => {
        await ctx.bus.publish(event, { tx });
        throw new Error('rollback');
      })
      .catch(() => {});
    await new Promise((r) => setTimeout(r, 800));
    expect(await deliveriesOf(ctx, event.id)).toEqual([]);
    expect(channels.push.sends).toEqual([]);
  });

  it('stores the event while Redis is unreachable, and the sweeper delivers it later', async () => {
    // A bus whose publisher points at a port with no Redis: the broadcast fails, the insert does not.
    const offline = testContext({ REDIS_URL: 'redis://127.0.0.1:1' });
    const c = await customer();
    const event = transactionCompleted(c);
    const result = await offline.bus.publish(event);
    expect(result.duplicate).toBe(false);
    await offline.close();

    const channels = sandboxes();
    await notifier(channels);
    const rows = await settled(event.id, 'sweeper delivery');
    for (const row of rows) expect(channels[row.channel as 'push'].timesSent(row.id)).toBe(1);
  });

  it('skips channels the customer cannot be reached on, and records why', async () => {
    await notifier(sandboxes());
    const c = await customer({ devices: 0 });
    await ctx.pool.query('UPDATE customers SET phone = NULL WHERE user_id = $1', [c.userId]);
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);
    const rows = await settled(event.id, 'deliveries');
    expect(rows.map((r) => [r.channel, r.status])).toEqual([['email', 'SENT'], ['push', 'SKIPPED'], ['sms', 'SKIPPED']]);
    const reasons = await ctx.pool.query(`SELECT channel, last_error FROM notification_deliveries WHERE id = ANY($1::uuid[]) AND status = 'SKIPPED' ORDER BY channel`, [rows.map((r) => r.id)]);
    expect(reasons.rows).toEqual([{ channel: 'push', last_error: 'no_device' }, { channel: 'sms', last_error: 'no_phone' }]);
  });

  it('completes a notification no channel can carry at fan-out, and announces it once as notification.failed', async () => {
    const channels = sandboxes();
    await notifier(channels);
    const c = await customer({ devices: 0 });
    await ctx.pool.query('UPDATE customers SET phone = NULL, email = NULL WHERE user_id = $1', [c.userId]);
    const heard: { type: string; payload: { channels: unknown[] } }[] = [];
    const unsubscribe = await ctx.bus.subscribe(['notification.failed'], (e) => {
      if (e.metadata.userId === c.userId) heard.push(e as never);
    });
    try {
      const event = transactionCompleted(c);
      await ctx.bus.publish(event);
      const rows = await settled(event.id, 'deliveries');
      expect(rows.map((r) => r.status)).toEqual(['SKIPPED', 'SKIPPED', 'SKIPPED']);
      expect(channels.email.sends.length + channels.push.sends.length + channels.sms.sends.length).toBe(0);

      const notification = await ctx.pool.query('SELECT outcome, completed_at FROM notifications WHERE event_id = $1', [event.id]);
      expect(notification.rows).toEqual([{ outcome: 'failed', completed_at: expect.any(Date) }]);
      const stored = await ctx.pool.query(`SELECT type, payload FROM domain_events WHERE user_id = $1 AND causation_id = $2 AND type LIKE 'notification.%'`, [c.userId, event.id]);
      expect(stored.rows.map((r) => r.type)).toEqual(['notification.failed']);
      expect(stored.rows[0].payload.channels.map((ch: { channel: string; status: string; error?: string }) => [ch.channel, ch.status, ch.error])).toEqual([
        ['email', 'SKIPPED', 'no_email'], ['push', 'SKIPPED', 'no_device'], ['sms', 'SKIPPED', 'no_phone'],
      ]);
      await waitFor(async () => heard.length > 0, 5_000, 'live notification.failed');
      expect(heard).toHaveLength(1);
    } finally {
      unsubscribe();
    }
  });

  it('a replay adds the delivery an existing notification lacks and sends only that one', async () => {
    const { channels, event } = await publishedToNewCustomer();
    const before = await settled(event.id, 'first run');
    // As if SMS had been routed for this event type only after the event was handled.
    const sms = before.find((r) => r.channel === 'sms')!;
    await ctx.pool.query('DELETE FROM notification_deliveries WHERE id = $1', [sms.id]);

    const { replayEvents } = await import('../../lib/events/replay.js');
    expect(await replayEvents(ctx, { eventIds: [event.id] })).toEqual({ replayed: 1 });
    const after = await settled(event.id, 'replayed SMS');
    expect(after.map((r) => [r.channel, r.status])).toEqual([['email', 'SENT'], ['push', 'SENT'], ['sms', 'SENT']]);
    const newSms = after.find((r) => r.channel === 'sms')!;
    expect(newSms.id).not.toBe(sms.id);
    expect(new Set(after.map((r) => r.notification_id)).size).toBe(1);
    expect(channels.sms.timesSent(newSms.id)).toBe(1);
    for (const r of after.filter((r) => r.channel !== 'sms')) expect(channels[r.channel as 'push'].timesSent(r.id)).toBe(1);
  });

  it('retries a transient provider failure and ends SENT', async () => {
    let calls = 0;
    const flaky = sandboxes();
    const original = flaky.sms.send.bind(flaky.sms);
    flaky.sms.send = async (message) => {
      calls++;
      if (calls === 1) throw new (await import('../../lib/channels/delivery-errors.js')).TransientDeliveryError('busy', 'try later', 10);
      return original(message);
    };
    await notifier(flaky);
    const c = await customer();
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);
    const rows = await settled(event.id, 'retried delivery');
    const sms = rows.find((r) => r.channel === 'sms')!;
    expect(sms).toMatchObject({ status: 'SENT', attempts: 2 });
    const history = await ctx.pool.query('SELECT status FROM notification_history WHERE delivery_id = $1 ORDER BY id', [sms.id]);
    expect(history.rows.map((h) => h.status)).toEqual(['RETRYING', 'SENT']);
  });

  it('gives up on a provider that never answers after the send timeout, and sends on the retry', async () => {
    let calls = 0;
    const stuck = sandboxes();
    const original = stuck.email.send.bind(stuck.email);
    stuck.email.send = (message) => (++calls === 1 ? new Promise(() => {}) : original(message));
    const n = await startTestNotifier(ctx, stuck, undefined, {
      timing: { sweeperGraceMs: 300, sweeperIntervalMs: 100, sweeperBatchSize: 200, maxProcessAttempts: 3, deliveryPollIntervalMs: 100, deliveryStaleMs: 5_000, sendTimeoutMs: 150, concurrency: 32 },
    });
    running.push(n);
    const c = await customer();
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);
    const rows = await settled(event.id, 'email after a timed-out attempt');
    const email = rows.find((r) => r.channel === 'email')!;
    expect(email).toMatchObject({ status: 'SENT', attempts: 2 });
    const history = await ctx.pool.query('SELECT status, error_code, latency_ms FROM notification_history WHERE delivery_id = $1 ORDER BY id', [email.id]);
    expect(history.rows.map((h) => [h.status, h.error_code])).toEqual([['RETRYING', 'timeout'], ['SENT', null]]);
    expect(history.rows[0].latency_ms).toBeGreaterThanOrEqual(140);
  });

  it('processes an event with no resolvable recipient without notifying anyone, while other events proceed', async () => {
    const channels = sandboxes();
    await notifier(channels);
    const c = await customer();
    // A customer row whose locale has no template is fine (fallback); a routed event for an
    // account with no owner and no userId has no recipient: processed, nothing to notify.
    const orphan = { ...transactionCompleted(c), metadata: { source: 'test' }, payload: { ...transactionCompleted(c).payload, accountNumber: '999999999999' } };
    const good = transactionCompleted(c);
    await ctx.bus.publish(orphan);
    await ctx.bus.publish(good);
    await settled(good.id, 'the good event');
    const processed = await waitFor(async () => {
      const r = await ctx.pool.query('SELECT 1 FROM event_outbox WHERE event_id = $1', [orphan.id]);
      return r.rows.length === 0;
    }, 5_000, 'orphan processed');
    expect(processed).toBeTruthy();
    expect(await deliveriesOf(ctx, orphan.id)).toEqual([]);
    await ctx.pool.query('DELETE FROM domain_events WHERE id = $1', [orphan.id]);
  });
});

describe('events no handler notifies about', () => {
  it('are completed on the fast path, not left to the sweeper', async () => {
    // A sweeper grace far beyond the wait below: only the hint can complete the event in time.
    const n = await startTestNotifier(ctx, sandboxes(), undefined, {
      timing: { sweeperGraceMs: 60_000, sweeperIntervalMs: 100, sweeperBatchSize: 200, maxProcessAttempts: 3, deliveryPollIntervalMs: 100, deliveryStaleMs: 5_000, sendTimeoutMs: 2_000, concurrency: 32 },
    });
    running.push(n);
    const syncId = `sync-${randomUUID()}`;
    const event = { id: randomUUID(), type: 'service.balance.sync.completed' as const, aggregateType: 'service' as const, aggregateId: syncId, payload: { syncId, accountsSynced: 3, accountsFailed: 0, durationMs: 12 }, metadata: { source: 'test' } };
    await ctx.bus.publish(event);
    try {
      const done = await waitFor(async () => (await ctx.pool.query('SELECT 1 FROM event_outbox WHERE event_id = $1', [event.id])).rows.length === 0, 3_000, 'service event completed');
      expect(done).toBeTruthy();
      expect(await deliveriesOf(ctx, event.id)).toEqual([]);
    } finally {
      await ctx.pool.query('DELETE FROM domain_events WHERE id = $1', [event.id]);
    }
  });
});

describe('unknown ids', () => {
  it('writes deliveries already claimed by the fan-out instance, which no live peer takes over', async () => {
    // Slow providers hold the sends open so the claimed rows can be looked at mid-flight.
    const slow = { push: new SandboxChannel('push', { latencyMs: 1_500 }), email: new SandboxChannel('email', { latencyMs: 1_500 }), sms: new SandboxChannel('sms', { latencyMs: 1_500 }) };
    const owner = await startTestNotifier(ctx, slow, `owner-${randomUUID().slice(0, 8)}`);
    running.push(owner);
    const c = await customer();
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);

    const inFlight = await waitFor(async () => {
      const { rows } = await ctx.pool.query<{ status: string; attempts: number; claimed_by: string }>(
        `SELECT d.status, d.attempts, d.claimed_by FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
          WHERE n.event_id = $1`, [event.id]);
      return rows.length === 3 && rows;
    }, 5_000, 'the fan-out rows');
    // Written SENDING at attempt 1 by the instance that fanned out: no separate claim write.
    expect(inFlight.every((r) => r.status === 'SENDING' && r.attempts === 1 && r.claimed_by.startsWith('owner-'))).toBe(true);

    // A second instance polling meanwhile, with a stale period far shorter than the sends take,
    // must still not take them over: the owner holds its lease lock.
    const peer = sandboxes();
    const peerNotifier = await startTestNotifier(ctx, peer, undefined, {
      timing: { sweeperGraceMs: 300, sweeperIntervalMs: 100, sweeperBatchSize: 200, maxProcessAttempts: 3, deliveryPollIntervalMs: 50, deliveryStaleMs: 300, sendTimeoutMs: 2_000, concurrency: 32 },
    });
    running.push(peerNotifier);
    const rows = await settled(event.id, 'three terminal deliveries');
    expect(rows.every((r) => r.status === 'SENT' && r.attempts === 1)).toBe(true);
    for (const row of rows) {
      expect(slow[row.channel as 'push'].timesSent(row.id)).toBe(1);
      expect(peer[row.channel as 'push'].timesSent(row.id)).toBe(0);
    }
    const history = await ctx.pool.query('SELECT attempt, status FROM notification_history WHERE delivery_id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
    expect(history.rows.map((h) => `${h.attempt}:${h.status}`).sort()).toEqual(['1:SENT', '1:SENT', '1:SENT']);
  });

  it('leaves deliveries on a paused channel PENDING at fan-out, unclaimed until the channel resumes', async () => {
    const health = createChannelHealth({ pauseMs: null });
    health.pause('sms', { code: 'gateway_auth', message: 'credentials refused' });
    const channels = sandboxes();
    const n = await startTestNotifier(ctx, channels, undefined, { health });
    running.push(n);
    const c = await customer();
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);

    const settled = await waitFor(async () => {
      const r = await deliveriesOf(ctx, event.id);
      return r.length === 3 && r.filter((d) => d.status === 'SENT').length === 2 && r;
    }, 10_000, 'push and email sent');
    expect(settled.find((d) => d.channel === 'sms')).toMatchObject({ status: 'PENDING', attempts: 0 });

    health.resume('sms');
    const sms = await waitFor(async () => (await deliveriesOf(ctx, event.id)).find((d) => d.channel === 'sms' && d.status === 'SENT'), 10_000, 'sms sent after resume');
    expect(sms.attempts).toBe(1);
    expect(channels.sms.timesSent(sms.id)).toBe(1);
  });

  it('processing a hint for an id that does not exist is harmless', async () => {
    const n = await notifier(sandboxes());
    const outcome = await n.processor.processIds([randomUUID()]);
    expect(outcome).toEqual({ processed: 0, failed: 0 });
  });
});
