// --prefill N: a domain_events table that already holds N processed events, as a bank's would
// after weeks of traffic, so that the pipeline is measured against a big table and its indexes.
import type { AppContext } from '../../lib/app-context.js';
import { round } from './util.js';

export interface PrefillOptions {
  events: number;
  /** Distinct recipients the events are spread over. */
  users: number;
  /** stored_at is spread uniformly over this many days before now. */
  days: number;
  chunk: number;
  /**
   * Drop the secondary indexes and build them after the load: minutes instead of a quarter of an
   * hour for 5M rows. Only for a throwaway database (--compare-prefill's twin): a run killed
   * between the two would leave the database without them.
   */
  buildIndexesAfterLoad?: boolean;
}

/**
 * Bulk-loads already-processed transaction.completed events with set-based SQL, then VACUUM
 * ANALYZE and CHECKPOINT, so the phase that follows neither runs on empty planner statistics
 * nor pays for the load (hint bits, an insert-triggered autovacuum, a checkpoint full of the
 * load's pages) inside its measured window.
 */
export async function prefillEvents(ctx: AppContext, o: PrefillOptions, log: (line: string) => void) {
  const started = Date.now();
  // Built indexes are packed like a bank's after a REINDEX (btree fillfactor 90) rather than
  // grown by random inserts (about 70 %).
  const { rows: existing } = await ctx.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM (SELECT 1 FROM domain_events LIMIT 1) x');
  const rebuild = o.buildIndexesAfterLoad && existing[0]!.n === '0'
    ? (await ctx.pool.query<{ name: string; definition: string }>(
        `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
          WHERE schemaname = current_schema() AND tablename = 'domain_events'
            AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'domain_events'::regclass)`,
      )).rows
    : [];
  for (const index of rebuild) await ctx.pool.query(`DROP INDEX "${index.name}"`);
  for (let done = 0; done < o.events; done += o.chunk) {
    const n = Math.min(o.chunk, o.events - done);
    await ctx.pool.query(
      // Every per-row random value is computed once in the subquery (its volatile target list
      // keeps the planner from flattening it), so the columns and the JSON agree.
      `INSERT INTO domain_events (id, type, aggregate_type, aggregate_id, user_id, correlation_id, source, payload, metadata, occurred_at, stored_at)
       SELECT gen_random_uuid(), 'transaction.completed', 'transaction', tx, u, c, 'herald.bench',
              jsonb_build_object('transactionId', tx, 'accountNumber', acct, 'amount', amount, 'currency', 'MWK',
                                 'direction', direction, 'description', 'Bench transfer'),
              jsonb_build_object('userId', u, 'correlationId', c, 'source', 'herald.bench'),
              t, t
         FROM (SELECT 't-' || gen_random_uuid() AS tx,
                      'bench-pre-u-' || k AS u,
                      (200000000000 + k)::text AS acct,
                      -- The same shape as the live events' correlation ids (a bare UUID): a prefix
                      -- here would put the live entries in a region of the index of their own.
                      gen_random_uuid()::text AS c,
                      ((random() * 100000)::numeric(12, 2))::text AS amount,
                      CASE WHEN random() < 0.5 THEN 'debit' ELSE 'credit' END AS direction,
                      now() - random() * make_interval(days => $3::int) AS t
                 FROM (SELECT (random() * ($2::int - 1))::int AS k FROM generate_series(1, $1::int)) g) x
        ORDER BY 1`,
      [n, o.users, o.days],
    );
    const elapsed = (Date.now() - started) / 1000;
    log(`prefill: ${(done + n).toLocaleString('en-US')} / ${o.events.toLocaleString('en-US')} events (${Math.round((done + n) / elapsed).toLocaleString('en-US')} rows/s)`);
  }
  if (rebuild.length > 0) {
    const client = await ctx.pool.connect();
    try {
      await client.query(`SET maintenance_work_mem = '512MB'`);
      for (const index of rebuild) await client.query(index.definition);
    } finally {
      client.release();
    }
    log(`prefill: rebuilt ${rebuild.length} secondary indexes in ${Date.now() - started} ms since the start of the load`);
  }
  const loadMs = Date.now() - started;
  const vacuumStarted = Date.now();
  await ctx.pool.query('VACUUM (ANALYZE) domain_events');
  const vacuumMs = Date.now() - vacuumStarted;
  const checkpointStarted = Date.now();
  // Needs superuser or pg_checkpoint; without it the load's dirty pages are written by the next timed checkpoint.
  const checkpointed = await ctx.pool.query('CHECKPOINT').then(() => true, () => false);
  const checkpointMs = Date.now() - checkpointStarted;
  const { rows } = await ctx.pool.query<{ rows: string; bytes: string; unprocessed: string }>(
    `SELECT (SELECT count(*) FROM domain_events)::text AS rows, pg_total_relation_size('domain_events')::text AS bytes,
            (SELECT count(*) FROM event_outbox)::text AS unprocessed`,
  );
  const result = {
    events: o.events,
    rowsInTable: Number(rows[0]!.rows),
    unprocessedInTable: Number(rows[0]!.unprocessed),
    tableMb: round(Number(rows[0]!.bytes) / 2 ** 20, 0),
    loadMs,
    rowsPerSec: round(o.events / (loadMs / 1000), 0),
    vacuumAnalyzeMs: vacuumMs,
    checkpointMs: checkpointed ? checkpointMs : null,
  };
  log(`prefill: ${result.rowsInTable.toLocaleString('en-US')} rows (${result.tableMb} MB with indexes) in ${loadMs} ms + VACUUM ANALYZE ${vacuumMs} ms + CHECKPOINT ${checkpointMs} ms`);
  return result;
}
