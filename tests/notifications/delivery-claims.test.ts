import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { PoolClient } from '../../lib/db/pool.js';
import { newRowId } from '../../lib/db/row-id.js';
import { claimByIds, dueClaimSql, recordOutcomes } from '../../lib/notifications/delivery-store.js';
import { inRolledBackTransaction, testContext } from '../support/harness.js';
import { planNodes, rowsRead, type PlanNode } from '../support/query-plans.js';

let ctx: AppContext;

beforeAll(() => {
  ctx = testContext();
});
afterAll(async () => {
  await ctx.close();
});

const channels = ['push', 'email', 'sms'] as const;

/** `count` notifications of a made-up user, each with a PENDING delivery per channel created `ageMs` ago. */
async function pendingDeliveries(client: PoolClient, count: number, ageMs: number): Promise<string[]> {
  const notificationIds = Array.from({ length: count }, () => newRowId());
  await client.query(
    `INSERT INTO notifications (id, event_id, user_id, event_type, priority, locale)
     SELECT id, gen_random_uuid(), 'claims-test-user', 'transaction.completed', 'normal', 'en' FROM unnest($1::uuid[]) AS id`,
    [notificationIds],
  );
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO notification_deliveries (notification_id, channel, status, user_id, event_type, priority, content, created_at)
     SELECT n, c, 'PENDING', 'claims-test-user', 'transaction.completed', 'normal', '{}', now() - make_interval(secs => $3::double precision / 1000)
       FROM unnest($1::uuid[]) AS n CROSS JOIN unnest($2::text[]) AS c
     RETURNING id`,
    [notificationIds, channels, ageMs],
  );
  return rows.map((r) => r.id);
}

async function updatesSoFar(client: PoolClient): Promise<{ updated: number; heapOnly: number }> {
  // The xact view counts this transaction's own, not yet reported, row changes.
  const { rows } = await client.query<{ updated: string; heap_only: string }>(
    `SELECT n_tup_upd AS updated, n_tup_hot_upd AS heap_only FROM pg_stat_xact_user_tables WHERE relname = 'notification_deliveries'`,
  );
  return { updated: Number(rows[0]?.updated ?? 0), heapOnly: Number(rows[0]?.heap_only ?? 0) };
}

describe('delivery claims', () => {
  it('a claim changes no indexed column: every claim is a heap-only update, and settling leaves the in-flight index', async () => {
    await inRolledBackTransaction(ctx, async (client) => {
      const ids = await pendingDeliveries(client, 4, 0);
      const before = await updatesSoFar(client);
      const claimed = await claimByIds(client, ids, 'claims-test', [...channels]);
      expect(claimed).toHaveLength(12);
      const after = await updatesSoFar(client);
      expect(after.updated - before.updated).toBe(12);
      expect(after.heapOnly - before.heapOnly).toBe(12);

      const flags = async () =>
        (await client.query<{ status: string; in_flight: boolean }>(
          `SELECT status, in_flight FROM notification_deliveries WHERE id = ANY($1::uuid[]) ORDER BY status`, [ids],
        )).rows.map((r) => `${r.status}:${r.in_flight}`);
      expect(new Set(await flags())).toEqual(new Set(['SENDING:true']));

      const channelOf = new Map(claimed.map((c) => [c.id, c.channel]));
      const [retried, ...settled] = ids;
      await recordOutcomes(client, [
        { id: retried!, channel: channelOf.get(retried!)!, attempt: 1, status: 'RETRYING', latencyMs: 1, error: 'timeout', nextAttemptAt: new Date(Date.now() + 60_000) },
        ...settled.map((id) => ({ id, channel: channelOf.get(id)!, attempt: 1, status: 'SENT' as const, latencyMs: 1 })),
      ]);
      expect(await flags()).toEqual(['RETRYING:true', ...Array(11).fill('SENT:false')]);
      // Each attempt's history row names its delivery's channel, carried by the outcome.
      const history = await client.query<{ delivery_id: string; channel: string }>(
        `SELECT delivery_id, channel FROM notification_history WHERE delivery_id = ANY($1::uuid[])`, [ids],
      );
      expect(history.rows).toHaveLength(12);
      for (const row of history.rows) expect(row.channel).toBe(channelOf.get(row.delivery_id));
    });
  });

  it('the due-delivery claim walks the in-flight index in due order and stops at its limit', async () => {
    await inRolledBackTransaction(ctx, async (client) => {
      await pendingDeliveries(client, 1_700, 60_000);
      await client.query('ANALYZE notification_deliveries');
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${dueClaimSql}`, ['claims-test', 50, 1_000, 30_000, 1_000, [...channels]]);
      const scans = planNodes(rows[0]['QUERY PLAN'][0].Plan as PlanNode).filter(
        (n) => n['Relation Name'] === 'notification_deliveries' && n['Node Type'] !== 'ModifyTable',
      );
      const due = scans.find((n) => n['Index Name'] === 'notification_deliveries_in_flight_idx');
      expect(due?.['Node Type']).toBe('Index Scan');
      // 5,100 deliveries are due; other tests' in-flight rows may come first or be locked.
      expect(rowsRead(due!)).toBeLessThanOrEqual(500);
      // The claimed rows are then fetched by id for the update: 50 rows read, no second scan.
      const fetches = scans.filter((n) => n !== due);
      expect(fetches).toHaveLength(1);
      expect(rowsRead(fetches[0]!)).toBe(50);
    });
  });
});
