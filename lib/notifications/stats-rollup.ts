import type { Pool, PoolClient } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { ScheduledJob } from '../scheduling/scheduler.js';

/**
 * The longest window GET /v1/stats accepts is 31 days, and its start is aligned down by up to
 * an hour: one more day covers that. Nothing else reads the rollup.
 */
export const ROLLUP_RETENTION_DAYS = 32;

/**
 * Folds the triggers' deltas into stats_hourly (see the stats_rollup migration).
 *
 * One statement, so a reader (which sums stats_hourly and the deltas in one snapshot) sees
 * every delta exactly once, before or after the move. Two compactions at once take disjoint
 * deltas (SKIP LOCKED), and each upserts its groups in key order, so they cannot deadlock on
 * stats_hourly rows. Returns the number of delta rows moved.
 */
export async function compactStatsRollup(db: Pool | PoolClient): Promise<number> {
  const { rows } = await db.query<{ moved: number }>(
    `WITH taken AS (
       SELECT ctid FROM stats_hourly_deltas FOR UPDATE SKIP LOCKED)
     , moved AS (
       DELETE FROM stats_hourly_deltas d USING taken WHERE d.ctid = taken.ctid
       RETURNING d.hour, d.kind, d.channel, d.event_type, d.category, d.n)
     , folded AS (
       INSERT INTO stats_hourly (hour, kind, channel, event_type, category, n)
       SELECT hour, kind, channel, event_type, category, sum(n)
         FROM moved
        GROUP BY hour, kind, channel, event_type, category
        ORDER BY hour, kind, channel, event_type, category
       ON CONFLICT (hour, kind, channel, event_type, category) DO UPDATE SET n = stats_hourly.n + excluded.n)
     SELECT count(*) AS moved FROM moved`,
  );
  return rows[0]?.moved ?? 0;
}

/**
 * Drops rollup rows no window can reach, and groups that netted to zero (their rows were
 * deleted), so stats_hourly stays a few thousand rows per day.
 */
export async function pruneStatsRollup(pool: Pool, retentionDays = ROLLUP_RETENTION_DAYS): Promise<number> {
  const result = await pool.query(
    `DELETE FROM stats_hourly WHERE n = 0 OR hour < now() - make_interval(days => $1::int)`,
    [retentionDays],
  );
  return result.rowCount ?? 0;
}

/**
 * The scheduler's jobs: compaction every `intervalSeconds` (which must divide 60: it is a cron
 * seconds step) and, hourly, the prune (a scan of stats_hourly that need not run more often).
 */
export function statsRollupJobs(pool: Pool, logger: Logger, intervalSeconds: number): ScheduledJob[] {
  return [
    {
      name: 'stats-rollup-compact',
      schedule: `*/${intervalSeconds} * * * * *`,
      lockTtlMs: 60_000,
      run: async () => {
        await compactStatsRollup(pool);
      },
    },
    {
      name: 'stats-rollup-prune',
      schedule: '0 17 * * * *',
      lockTtlMs: 10 * 60_000,
      run: async () => {
        const pruned = await pruneStatsRollup(pool);
        if (pruned > 0) logger.info({ pruned }, 'stats rollup pruned');
      },
    },
  ];
}
