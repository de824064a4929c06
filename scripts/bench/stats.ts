import type { AddressInfo } from 'node:net';
import type { AppContext } from '../../lib/app-context.js';
import { createApiKey } from '../../lib/api/api-keys.js';
import { compactStatsRollup } from '../../lib/notifications/stats-rollup.js';
import { buildServer } from '../../services/api/server.js';
import { percentile, round } from './util.js';

export interface StatsOptions {
  /** Notifications to hold in the table (each with three deliveries and its event). */
  notifications: number;
  requests: number;
}

/** Several event types, so the rollup holds as many groups per hour as a real day would. */
const benchTypes = [
  'transaction.completed', 'transaction.completed', 'transaction.completed', 'transaction.failed', 'transaction.created',
  'account.frozen', 'alert.triggered', 'checkbook.ready', 'user.login', 'account.created',
];

/**
 * `GET /v1/stats?window=24h` over a large table: loads `notifications` synthetic notifications
 * spread over the last 24 h with set-based SQL, then times sequential requests (p50/p95/p99).
 * The load goes through the rollup triggers like any write; their deltas are compacted before
 * timing, as the scheduler would have done by then in a running system.
 */
export async function runStats(ctx: AppContext, o: StatsOptions, log: (line: string) => void) {
  const chunk = 100_000;
  const loadStarted = Date.now();
  for (let done = 0; done < o.notifications; done += chunk) {
    const n = Math.min(chunk, o.notifications - done);
    await ctx.pool.query(
      // t and type are computed per row in the subquery: a LATERAL subquery that does not
      // reference g is evaluated once, which put a whole chunk in a single instant.
      `WITH e AS (
         INSERT INTO domain_events (id, type, aggregate_type, aggregate_id, source, payload, metadata, occurred_at, stored_at)
         SELECT gen_random_uuid(), type, 'transaction', 'bench-' || g, 'bench', '{}'::jsonb, '{"source":"bench"}'::jsonb, t, t
           FROM (SELECT g, now() - random() * interval '24 hours' AS t, ($2::text[])[1 + g % cardinality($2::text[])] AS type
                   FROM generate_series(1, $1::int) g) x
         RETURNING id, type, stored_at)
       , n AS (
         INSERT INTO notifications (id, event_id, user_id, event_type, priority, locale, created_at, completed_at, outcome)
         SELECT gen_random_uuid(), e.id, 'bench-user-' || (random() * 10000)::int, e.type, 'normal', 'en', e.stored_at, e.stored_at, 'sent' FROM e
         RETURNING id, user_id, event_type, created_at)
       INSERT INTO notification_deliveries (notification_id, channel, status, user_id, event_type, priority, content, attempts, created_at, sent_at)
       SELECT n.id, c.channel, CASE WHEN random() < 0.97 THEN 'SENT' WHEN random() < 0.5 THEN 'FAILED' ELSE 'DEAD_LETTERED' END,
              n.user_id, n.event_type, 'normal', '{}'::jsonb, 1, n.created_at, n.created_at
         FROM n CROSS JOIN (VALUES ('push'), ('email'), ('sms')) c(channel)`,
      [n, benchTypes],
    );
    log(`stats: loaded ${done + n} notifications`);
  }
  const compactStarted = Date.now();
  const deltasCompacted = await compactStatsRollup(ctx.pool);
  const compactMs = Date.now() - compactStarted;
  await ctx.pool.query('ANALYZE domain_events, notifications, notification_deliveries, stats_hourly, stats_hourly_deltas');
  const loadMs = Date.now() - loadStarted - compactMs;
  log(`stats: loaded in ${loadMs} ms; compacted ${deltasCompacted} rollup deltas in ${compactMs} ms`);

  const { key } = await createApiKey(ctx.pool, { name: `bench-stats-${Date.now()}`, scopes: ['read'], rateLimitPerMinute: 1_000_000_000 });
  const app = await buildServer(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/stats?window=24h`;
  const timings: number[] = [];
  try {
    for (let i = 0; i < o.requests + 3; i++) {
      const started = performance.now();
      const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
      await response.text();
      if (response.status !== 200) throw new Error(`stats answered ${response.status}`);
      if (i >= 3) timings.push(performance.now() - started); // the first few warm caches and plans
    }
  } finally {
    await app.close();
  }
  const result = {
    notifications: o.notifications,
    deliveries: o.notifications * 3,
    loadMs,
    deltasCompacted,
    compactMs,
    requests: timings.length,
    p50Ms: round(percentile(timings, 50)),
    p95Ms: round(percentile(timings, 95)),
    p99Ms: round(percentile(timings, 99)),
  };
  log(`stats: ${result.notifications} notifications, GET /v1/stats?window=24h p50 ${result.p50Ms} ms p95 ${result.p95Ms} ms`);
  return result;
}
