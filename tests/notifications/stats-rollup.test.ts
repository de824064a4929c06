import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { Channel } from '../../lib/channels/channel.js';
import { TransientDeliveryError } from '../../lib/channels/delivery-errors.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import type { Pool, PoolClient } from '../../lib/db/pool.js';
import { replayEvents } from '../../lib/events/replay.js';
import { applyReceipt } from '../../lib/notifications/delivery-receipts.js';
import { claimByIds, recordOutcomes } from '../../lib/notifications/delivery-store.js';
import type { Notifier } from '../../lib/notifications/notifier.js';
import { compactStatsRollup, pruneStatsRollup, statsRollupJobs } from '../../lib/notifications/stats-rollup.js';
import { deliveryStats, type DeliveryStats, type StatusCounts } from '../../lib/notifications/stats.js';
import { retryDeadLetters } from '../../lib/queues/dead-letters.js';
import { Scheduler } from '../../lib/scheduling/scheduler.js';
import { createCustomer, deleteCustomer, deliveriesOf, inRolledBackTransaction, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';

let ctx: AppContext;
const users: string[] = [];
const syntheticTypes: string[] = [];
const running: Notifier[] = [];

beforeAll(() => {
  ctx = testContext();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});
afterAll(async () => {
  for (const u of users) await deleteCustomer(ctx, u);
  await ctx.pool.query('DELETE FROM domain_events WHERE type = ANY($1::text[])', [syntheticTypes]);
  await ctx.pool.query('DELETE FROM notifications WHERE event_type = ANY($1::text[])', [syntheticTypes]);
  await ctx.close();
});

// The reference is written out here rather than calling the migration's
// stats_delivery_category, so that a wrong bucket in the migration fails the test.
const rawCategory = `CASE WHEN status IN ('SENT', 'DELIVERED') THEN 'sent' WHEN status = 'FAILED' THEN 'failed'
  WHEN status = 'DEAD_LETTERED' THEN 'dead_lettered' WHEN status = 'SKIPPED' THEN 'skipped' ELSE 'pending' END`;

/**
 * Every (hour, kind, channel, event_type, category) whose rollup (stats_hourly + deltas)
 * differs from a GROUP BY over the tables themselves, over the whole database and the
 * retained 31 days. One statement, so a concurrent writer cannot skew the comparison.
 */
async function rollupMismatches(db: Pool | PoolClient) {
  const { rows } = await db.query(
    `WITH raw AS (
       SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC') AS hour, 'delivery' AS kind, channel, event_type, ${rawCategory} AS category, count(*) AS n
         FROM notification_deliveries GROUP BY 1, 3, 4, 5
       UNION ALL
       SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC'), 'notification', '', event_type, '', count(*) FROM notifications GROUP BY 1, 4
       UNION ALL
       SELECT date_trunc('hour', stored_at AT TIME ZONE 'UTC'), 'event', '', type, '', count(*) FROM domain_events GROUP BY 1, 4)
     , rollup AS (
       SELECT hour AT TIME ZONE 'UTC' AS hour, kind, channel, event_type, category, sum(n)::bigint AS n
         FROM (SELECT hour, kind, channel, event_type, category, n FROM stats_hourly
               UNION ALL SELECT hour, kind, channel, event_type, category, n FROM stats_hourly_deltas) AS r
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0)
     SELECT hour, kind, channel, event_type, category, raw.n AS raw, rollup.n AS rollup
       FROM raw FULL JOIN rollup USING (hour, kind, channel, event_type, category)
      WHERE raw.n IS DISTINCT FROM rollup.n AND hour >= (now() - interval '31 days') AT TIME ZONE 'UTC'`,
  );
  return rows;
}

async function pendingDeltas(): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>('SELECT count(*) AS n FROM stats_hourly_deltas');
  return rows[0]!.n;
}

/** What deliveryStats must answer, straight from the tables: the pre-rollup query over the same hourly window. */
async function referenceStats(windowSeconds: number, now: Date): Promise<DeliveryStats> {
  const from = new Date(Math.floor((now.getTime() - windowSeconds * 1000) / 3_600_000) * 3_600_000);
  const inWindow = (column: string) => `${column} >= $1 AND date_trunc('hour', ${column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' < $2`;
  const [grouped, events, notifications] = await Promise.all([
    ctx.pool.query<{ channel: string | null; event_type: string | null; hour: Date | null; category: string; n: number; g: number }>(
      `SELECT channel, event_type, hour, category, count(*) AS n, GROUPING(channel, event_type, hour) AS g
         FROM (SELECT channel, event_type, date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, ${rawCategory} AS category
                 FROM notification_deliveries WHERE ${inWindow('created_at')}) AS d
        GROUP BY GROUPING SETS ((channel, category), (event_type, category), (hour, category))`,
      [from, now],
    ),
    ctx.pool.query<{ n: number }>(`SELECT count(*) AS n FROM domain_events WHERE ${inWindow('stored_at')}`, [from, now]),
    ctx.pool.query<{ n: number }>(`SELECT count(*) AS n FROM notifications WHERE ${inWindow('created_at')}`, [from, now]),
  ]);
  const empty = (): StatusCounts => ({ total: 0, sent: 0, failed: 0, pending: 0, skipped: 0, deadLettered: 0, successRate: null });
  const field = { sent: 'sent', failed: 'failed', dead_lettered: 'deadLettered', skipped: 'skipped', pending: 'pending' } as const;
  const add = (c: StatusCounts, category: string, n: number) => {
    c.total += n;
    c[field[category as keyof typeof field]] += n;
  };
  const finish = (c: StatusCounts) => {
    const done = c.sent + c.failed + c.deadLettered;
    c.successRate = done === 0 ? null : Math.round((c.sent / done) * 10_000) / 10_000;
    return c;
  };
  const totals = empty();
  const byChannel: Record<string, StatusCounts> = { push: empty(), email: empty(), sms: empty() };
  const byEventType: Record<string, StatusCounts> = {};
  const byHour: Record<string, StatusCounts> = {};
  for (const r of grouped.rows) {
    if (r.g === 0b011) {
      add(byChannel[r.channel!]!, r.category, r.n);
      add(totals, r.category, r.n);
    } else if (r.g === 0b101) add((byEventType[r.event_type!] ??= empty()), r.category, r.n);
    else add((byHour[r.hour!.toISOString()] ??= empty()), r.category, r.n);
  }
  return {
    window: { from: from.toISOString(), to: now.toISOString(), seconds: windowSeconds },
    events: events.rows[0]!.n,
    notifications: notifications.rows[0]!.n,
    deliveries: finish(totals),
    byChannel: Object.fromEntries(Object.entries(byChannel).map(([k, c]) => [k, finish(c)])),
    byEventType: Object.fromEntries(Object.entries(byEventType).map(([k, c]) => [k, finish(c)])),
    byHour: Object.entries(byHour).sort(([a], [b]) => a.localeCompare(b)).map(([hour, c]) => ({ hour, ...finish(c) })),
  };
}

/** Synthetic rows of a type no other test uses, written with set-based SQL like the bench. */
async function insertSynthetic(db: Pool | PoolClient, type: string, o: { count: number; at: string; statuses: string[] }) {
  await db.query(
    `WITH e AS (
       INSERT INTO domain_events (id, type, aggregate_type, aggregate_id, source, payload, metadata, occurred_at, stored_at)
       SELECT gen_random_uuid(), $1, 'transaction', 'rollup-test', 'test', '{}', '{}', $3::timestamptz, $3::timestamptz
         FROM generate_series(1, $2::int) RETURNING id, stored_at)
     , n AS (
       INSERT INTO notifications (id, event_id, user_id, event_type, priority, locale, created_at)
       SELECT gen_random_uuid(), e.id, 'rollup-test-user', $1, 'normal', 'en', e.stored_at FROM e RETURNING id, created_at)
     INSERT INTO notification_deliveries (notification_id, channel, status, user_id, event_type, priority, content, created_at)
     SELECT n.id, c.channel, ($4::text[])[1 + (c.i + row_number() OVER ()) % cardinality($4::text[])], 'rollup-test-user', $1, 'normal', '{}', n.created_at
       FROM n CROSS JOIN (VALUES ('push', 0), ('email', 1), ('sms', 2)) c(channel, i)`,
    [type, o.count, o.at, o.statuses],
  );
}

function syntheticType(): string {
  const type = `test.rollup.${randomUUID().slice(0, 8)}`;
  syntheticTypes.push(type);
  return type;
}

const terminal = ['SENT', 'DELIVERED', 'SKIPPED', 'FAILED', 'DEAD_LETTERED'];

describe('stats rollup', () => {
  it('stays equal to the tables through the real pipeline, receipts, dead-letter retry, replay and cascaded deletes', { timeout: 60_000 }, async () => {
    const brokenSms: Channel<'sms'> = {
      name: 'sms',
      canReach: (r) => r.phone !== null,
      classify: (e) => new SandboxChannel('sms').classify(e),
      send: async () => {
        throw new TransientDeliveryError('gateway_busy', 'gateway busy');
      },
    };
    const channels = { push: new SandboxChannel('push'), email: new SandboxChannel('email', { permanentFailureRate: 0.5 }), sms: brokenSms };
    running.push(await startTestNotifier(ctx, channels));
    const customers = await Promise.all([createCustomer(ctx), createCustomer(ctx), createCustomer(ctx)]);
    users.push(...customers.map((c) => c.userId));
    const events = customers.flatMap((c) => [transactionCompleted(c), transactionCompleted(c)]);
    for (const e of events) await ctx.bus.publish(e);
    const settled = async () => {
      const rows = (await Promise.all(events.map((e) => deliveriesOf(ctx, e.id)))).flat();
      return rows.length === events.length * 3 && rows.every((r) => terminal.includes(r.status)) && rows;
    };
    let rows = await waitFor(settled, 20_000, 'every delivery terminal');
    await Promise.all(running.splice(0).map((n) => n.stop()));
    expect(rows.filter((r) => r.channel === 'sms').every((r) => r.status === 'DEAD_LETTERED')).toBe(true);
    expect(await rollupMismatches(ctx.pool)).toEqual([]);

    // Receipts: SENT → DELIVERED stays in the same bucket, SENT → FAILED moves it.
    const sentPush = rows.filter((r) => r.channel === 'push' && r.status === 'SENT');
    await applyReceipt(ctx.pool, 'push', { receiptId: `r-${randomUUID()}`, deliveryId: sentPush[0]!.id, status: 'delivered' });
    await applyReceipt(ctx.pool, 'push', { receiptId: `r-${randomUUID()}`, deliveryId: sentPush[1]!.id, status: 'bounced' });
    expect(await rollupMismatches(ctx.pool)).toEqual([]);

    // Operator retry of dead letters, then a claim and outcomes through the delivery store.
    const dead = rows.filter((r) => r.status === 'DEAD_LETTERED').map((r) => r.id);
    expect((await retryDeadLetters(ctx.pool, dead)).retried).toHaveLength(dead.length);
    expect(await rollupMismatches(ctx.pool)).toEqual([]);
    const claimed = await claimByIds(ctx.pool, dead, 'rollup-test', ['sms']);
    expect(claimed).toHaveLength(dead.length);
    await recordOutcomes(ctx.pool, claimed.map((c, i) => ({ id: c.id, channel: c.channel, attempt: c.attempt, status: i % 2 ? 'SENT' : 'RETRYING', latencyMs: 1, nextAttemptAt: new Date(Date.now() + 3_600_000) })));
    expect(await rollupMismatches(ctx.pool)).toEqual([]);

    // Replay resets FAILED and DEAD_LETTERED deliveries to PENDING. One `now` for every read
    // below, so that an hour boundary passing mid-test cannot move the window.
    const at = new Date();
    const before = await deliveryStats(ctx.pool, 3_600, at);
    await replayEvents(ctx, { eventIds: events.map((e) => e.id) });
    expect(await rollupMismatches(ctx.pool)).toEqual([]);
    rows = (await Promise.all(events.map((e) => deliveriesOf(ctx, e.id)))).flat();
    const reset = rows.filter((r) => r.status === 'PENDING').length;
    const after = await deliveryStats(ctx.pool, 3_600, at);
    expect(after.deliveries.pending - before.deliveries.pending).toBe(reset);
    expect(after.deliveries.total).toBe(before.deliveries.total);

    // Compaction moves every delta and changes no count.
    expect(await pendingDeltas()).toBeGreaterThan(0);
    expect(await compactStatsRollup(ctx.pool)).toBeGreaterThan(0);
    expect(await pendingDeltas()).toBe(0);
    expect(await rollupMismatches(ctx.pool)).toEqual([]);
    expect(await deliveryStats(ctx.pool, 3_600, at)).toEqual(after);

    // Deleting events cascades to their notifications and deliveries.
    await ctx.pool.query('DELETE FROM domain_events WHERE id = ANY($1::uuid[])', [events.slice(0, 2).map((e) => e.id)]);
    expect(await rollupMismatches(ctx.pool)).toEqual([]);
    const gone = await deliveryStats(ctx.pool, 3_600, at);
    expect(after.deliveries.total - gone.deliveries.total).toBe(6);
    expect(after.notifications - gone.notifications).toBe(2);
    await compactStatsRollup(ctx.pool);
    expect(await rollupMismatches(ctx.pool)).toEqual([]);
  });

  it('answers exactly what a scan of the tables over the same hourly window answers', async () => {
    const type = syntheticType();
    // One second into each bucket, counted back from the current hour, so that the expected
    // counts do not depend on the minute the test runs at.
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    for (const hoursAgo of [0, 1, 5, 23, 24, 26, 30]) {
      await insertSynthetic(ctx.pool, type, { count: 7, at: new Date(hour - hoursAgo * 3_600_000 + 1_000).toISOString(), statuses: ['SENT', 'FAILED', 'PENDING', 'SKIPPED', 'DEAD_LETTERED', 'DELIVERED', 'SENDING'] });
    }
    for (const compacted of [false, true]) {
      if (compacted) await compactStatsRollup(ctx.pool);
      for (const window of [900, 3_600, 86_400, 7 * 86_400]) {
        const at = new Date();
        expect(await deliveryStats(ctx.pool, window, at)).toEqual(await referenceStats(window, at));
      }
    }
    const day = await deliveryStats(ctx.pool, 86_400, new Date(hour + 1_000));
    // 24 h back from now, aligned down to the hour: the bucket 24 h back is in, the one 26 h back is not.
    expect(day.byEventType[type]!.total).toBe(5 * 7 * 3);
  });

  it('buckets by UTC hour and reports the aligned start of the window', async () => {
    const type = syntheticType();
    // A midnight 20 days back: no other test writes there, and it is inside the retention.
    const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 20 * 86_400_000;
    const iso = (offsetMinutes: number) => new Date(day + offsetMinutes * 60_000).toISOString();
    const client = await ctx.pool.connect();
    try {
      // A writer session in a half-hour time zone must still land in the UTC hour.
      await client.query(`SET TIME ZONE 'Asia/Kolkata'`);
      await insertSynthetic(client, type, { count: 1, at: iso(20), statuses: ['SENT'] });
      await insertSynthetic(client, type, { count: 2, at: iso(-10), statuses: ['FAILED'] });
      await insertSynthetic(client, type, { count: 4, at: iso(-110), statuses: ['PENDING'] });
    } finally {
      await client.query('RESET TIME ZONE');
      client.release();
    }
    const now = new Date(day + 30 * 60_000);
    const quarter = await deliveryStats(ctx.pool, 900, now);
    expect(quarter.window).toEqual({ from: iso(0), to: now.toISOString(), seconds: 900 });
    expect(quarter.byHour.map((h) => [h.hour, h.total])).toEqual([[iso(0), 3]]);
    expect(quarter).toMatchObject({ events: 1, notifications: 1 });

    const hour = await deliveryStats(ctx.pool, 3_600, now);
    expect(hour.window.from).toBe(iso(-60));
    expect(hour.byHour.map((h) => [h.hour, h.sent, h.failed])).toEqual([
      [iso(-60), 0, 6],
      [iso(0), 3, 0],
    ]);
    expect(hour.byEventType[type]).toEqual({ total: 9, sent: 3, failed: 6, pending: 0, skipped: 0, deadLettered: 0, successRate: 0.3333 });
    expect(hour.byChannel.sms).toMatchObject({ total: 3, sent: 1, failed: 2 });
    expect(hour).toMatchObject({ events: 3, notifications: 3 });
    expect(await deliveryStats(ctx.pool, 3 * 3_600, now)).toMatchObject({ events: 7, deliveries: { total: 21, pending: 12 } });
    expect(await deliveryStats(ctx.pool, 3 * 3_600, now)).toEqual(await referenceStats(3 * 3_600, now));
  });

  it('compactions running at once move every delta exactly once and never wait on each other', async () => {
    const type = syntheticType();
    const base = Date.now();
    for (let i = 0; i < 20; i++) {
      await insertSynthetic(ctx.pool, type, { count: 5, at: new Date(base - (i % 6) * 3_600_000).toISOString(), statuses: ['SENT', 'PENDING', 'FAILED'] });
    }
    const a = await ctx.pool.connect();
    const b = await ctx.pool.connect();
    try {
      // A lock wait in B fails the test quickly instead of hanging it.
      await b.query(`SET lock_timeout = '3s'`);
      // A compacts but has not committed: B skips A's deltas instead of waiting for them.
      await a.query('BEGIN');
      const movedByA = await a.query<{ n: number }>('SELECT count(*) AS n FROM stats_hourly_deltas').then((r) => r.rows[0]!.n);
      expect(await compactStatsRollup(a)).toBe(movedByA);
      expect(await compactStatsRollup(b)).toBe(0);

      // New deltas for the same hours: B takes them and waits only for A's stats_hourly rows.
      await insertSynthetic(ctx.pool, type, { count: 3, at: new Date(base).toISOString(), statuses: ['SENT'] });
      const movedByB = compactStatsRollup(b);
      await new Promise((r) => setTimeout(r, 100));
      await a.query('COMMIT');
      expect(await movedByB).toBeGreaterThan(0);
    } finally {
      await a.query('ROLLBACK').catch(() => {});
      await b.query('RESET lock_timeout').catch(() => {});
      a.release();
      b.release();
    }
    expect(await pendingDeltas()).toBe(0);
    expect(await rollupMismatches(ctx.pool)).toEqual([]);

    // Free-running: writers and two compactors at once, several rounds.
    const writer = (async () => {
      for (let i = 0; i < 30; i++) {
        await insertSynthetic(ctx.pool, type, { count: 4, at: new Date(base - (i % 4) * 3_600_000).toISOString(), statuses: ['PENDING', 'SENT'] });
        await ctx.pool.query(`UPDATE notification_deliveries SET status = 'DEAD_LETTERED' WHERE event_type = $1 AND status = 'PENDING' AND channel = $2`, [type, ['push', 'email', 'sms'][i % 3]]);
      }
    })();
    const compactor = async () => {
      let moved = 0;
      for (let i = 0; i < 15; i++) moved += await compactStatsRollup(ctx.pool);
      return moved;
    };
    await Promise.all([writer, compactor(), compactor()]);
    await Promise.all([compactStatsRollup(ctx.pool), compactStatsRollup(ctx.pool)]);
    expect(await pendingDeltas()).toBe(0);
    expect(await rollupMismatches(ctx.pool)).toEqual([]);
  });

  it('forgets a truncated table, and prunes groups that netted to zero', async () => {
    const type = syntheticType();
    await insertSynthetic(ctx.pool, type, { count: 3, at: new Date().toISOString(), statuses: ['SENT'] });
    await compactStatsRollup(ctx.pool);
    // TRUNCATE fires no DELETE trigger; rolled back, so the shared tables keep their rows.
    await inRolledBackTransaction(ctx, async (client) => {
      await client.query('TRUNCATE notification_deliveries CASCADE');
      expect(await rollupMismatches(client)).toEqual([]);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM stats_hourly WHERE kind = 'delivery'`);
      expect(rows[0].n).toBe(0);
    });
    expect(await rollupMismatches(ctx.pool)).toEqual([]);

    await ctx.pool.query('DELETE FROM domain_events WHERE type = $1', [type]);
    await compactStatsRollup(ctx.pool);
    const zero = `SELECT count(*)::int AS n FROM stats_hourly WHERE event_type = $1 AND n = 0`;
    expect((await ctx.pool.query(zero, [type])).rows[0].n).toBeGreaterThan(0);
    await pruneStatsRollup(ctx.pool);
    expect((await ctx.pool.query(zero, [type])).rows[0].n).toBe(0);
    expect(await rollupMismatches(ctx.pool)).toEqual([]);
  });

  it('is compacted by the scheduler', async () => {
    const type = syntheticType();
    await insertSynthetic(ctx.pool, type, { count: 2, at: new Date().toISOString(), statuses: ['SENT'] });
    const deltasOf = async () =>
      (await ctx.pool.query<{ n: number }>('SELECT count(*) AS n FROM stats_hourly_deltas WHERE event_type = $1', [type])).rows[0]!.n;
    expect(await deltasOf()).toBeGreaterThan(0);
    const scheduler = new Scheduler(ctx.redis, ctx.logger);
    scheduler.start(statsRollupJobs(ctx.pool, ctx.logger, 1));
    try {
      await waitFor(async () => (await deltasOf()) === 0, 10_000, 'the compaction job');
    } finally {
      await scheduler.stop();
    }
    expect(await rollupMismatches(ctx.pool)).toEqual([]);
  });
});
