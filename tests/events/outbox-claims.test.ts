import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { PoolClient } from '../../lib/db/pool.js';
import { claimTransactionSettings, outboxClaims } from '../../lib/events/event-processor.js';
import { inRolledBackTransaction, testContext } from '../support/harness.js';
import { planNodes, rowsRead, type PlanNode } from '../support/query-plans.js';

let ctx: AppContext;

beforeAll(() => {
  ctx = testContext();
});
afterAll(async () => {
  await ctx.close();
});

/** Runs the claim (inside the caller's transaction) and reports how it read event_outbox. */
async function outboxReads(client: PoolClient, sql: string, params: unknown[]) {
  const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
  return planNodes(rows[0]['QUERY PLAN'][0].Plan as PlanNode)
    .filter((n) => n['Relation Name'] === 'event_outbox' && n['Node Type'] !== 'ModifyTable')
    .map((n) => ({
      scan: n['Index Name'] ?? n['Node Type'],
      loops: n['Actual Loops'],
      rowsRead: rowsRead(n),
    }));
}

/**
 * With a backlog, a claim must read about the rows it claims, once. Plans that did not: a
 * locking subquery under `IN (...)`, which Postgres never flattens and ran once per outbox row
 * (seconds per claim); the due-order partial index filtered by id, which stale statistics
 * used to prefer for a claim by id (the whole backlog read to find a batch); and a sequential
 * scan of the backlog for a claim by id when the outbox had been analyzed while drained.
 */
describe('outbox claims under a backlog', () => {
  it('read only the rows they claim, whatever the statistics say', async () => {
    await inRolledBackTransaction(ctx, async (client) => {
      // Statistics taken while the queue was drained (one page, no live rows: a fresh database,
      // or a quiet moment autovacuum happened to look at), then a backlog of 5,000 rows: the
      // state of a table that grew since. TRUNCATE is transactional: all of it is rolled back.
      await client.query('TRUNCATE event_outbox');
      await client.query('INSERT INTO event_outbox (event_id, stored_at) SELECT gen_random_uuid(), now() FROM generate_series(1, 100)');
      await client.query('DELETE FROM event_outbox');
      await client.query('ANALYZE event_outbox');
      // As the processor's claim transactions run.
      for (const setting of claimTransactionSettings) await client.query(setting);
      const backlog = Array.from({ length: 5_000 }, () => randomUUID());
      await client.query(
        `INSERT INTO event_outbox (event_id, stored_at) SELECT id, now() - interval '1 minute' FROM unnest($1::uuid[]) AS id`,
        [backlog],
      );

      let batch = 0;
      for (const sql of [outboxClaims.byId.lock, outboxClaims.byId.take]) {
        const wanted = backlog.slice(batch * 20, ++batch * 20);
        const reads = await outboxReads(client, sql, [wanted]);
        expect(reads.length).toBeGreaterThan(0);
        for (const read of reads) expect(read).toEqual({ scan: 'event_outbox_pkey', loops: 1, rowsRead: 20 });
      }
      for (const sql of [outboxClaims.unprocessed.lock, outboxClaims.unprocessed.take]) {
        const reads = await outboxReads(client, sql, [0, 200]);
        expect(reads.length).toBeGreaterThan(0);
        for (const read of reads) {
          expect(read.loops).toBe(1);
          expect(read.rowsRead).toBeLessThanOrEqual(400);
        }
      }
    });
  });
});
