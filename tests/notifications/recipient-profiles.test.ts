import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { PoolClient } from '../../lib/db/pool.js';
import { loadRecentSends, recentSendsSql } from '../../lib/notifications/recipient-profiles.js';
import { inRolledBackTransaction, testContext } from '../support/harness.js';
import { planNodes, type PlanNode } from '../support/query-plans.js';

let ctx: AppContext;

beforeAll(() => {
  ctx = testContext();
});
afterAll(async () => {
  await ctx.close();
});

interface Row { channel: string; status: string; priority: string; sentAgo: string | null }

/** One notification of `userId` holding the given deliveries (sentAgo: an interval, or null when never sent). */
async function deliveries(client: PoolClient, userId: string, rows: Row[]): Promise<void> {
  for (const row of rows) {
    const { rows: [n] } = await client.query<{ id: string }>(
      `INSERT INTO notifications (event_id, user_id, event_type, priority, locale)
       VALUES (gen_random_uuid(), $1, 'transaction.completed', $2, 'en') RETURNING id`,
      [userId, row.priority],
    );
    await client.query(
      `INSERT INTO notification_deliveries (notification_id, channel, status, user_id, event_type, priority, content, sent_at)
       VALUES ($1, $2, $3, $4, 'transaction.completed', $5, '{}', now() - $6::interval)`,
      [n!.id, row.channel, row.status, userId, row.priority, row.sentAgo],
    );
  }
}

describe('recent sends (frequency caps)', () => {
  it('count only non-critical deliveries sent in the last hour, per channel', async () => {
    await inRolledBackTransaction(ctx, async (client) => {
      const userId = `caps-${randomUUID()}`;
      await deliveries(client, userId, [
        { channel: 'push', status: 'SENT', priority: 'normal', sentAgo: '5 minutes' },
        { channel: 'push', status: 'DELIVERED', priority: 'high', sentAgo: '50 minutes' },
        { channel: 'push', status: 'SENT', priority: 'normal', sentAgo: '2 hours' },
        { channel: 'push', status: 'SENT', priority: 'critical', sentAgo: '1 minute' },
        { channel: 'push', status: 'PENDING', priority: 'normal', sentAgo: null },
        { channel: 'sms', status: 'SENT', priority: 'low', sentAgo: '10 minutes' },
        { channel: 'email', status: 'SENT', priority: 'critical', sentAgo: '10 minutes' },
      ]);
      const recent = await loadRecentSends(client, [userId]);
      expect(new Map([...recent].map(([key, r]) => [key, Number(r.count)]))).toEqual(new Map([[`${userId}:push`, 2], [`${userId}:sms`, 1]]));
      // The oldest counted push is the one sent 50 minutes ago: when the cap frees up again.
      const oldest = recent.get(`${userId}:push`)!.oldest!.getTime();
      expect(Date.now() - oldest).toBeGreaterThan(49 * 60_000);
      expect(Date.now() - oldest).toBeLessThan(51 * 60_000);
    });
  });

  it('read the partial index of sent, non-critical deliveries, which unsent and critical ones never enter', async () => {
    await inRolledBackTransaction(ctx, async (client) => {
      const userId = `caps-${randomUUID()}`;
      // Other users' sends and this user's unsent ones, so that a scan of the table would be the costly plan.
      await client.query(
        `WITH n AS (
           INSERT INTO notifications (event_id, user_id, event_type, priority, locale)
           SELECT gen_random_uuid(), 'caps-other-' || (i % 200), 'transaction.completed', 'normal', 'en' FROM generate_series(1, 3000) AS i
           RETURNING id, user_id)
         INSERT INTO notification_deliveries (notification_id, channel, status, user_id, event_type, priority, content, sent_at)
         SELECT id, 'push', 'SENT', user_id, 'transaction.completed', 'normal', '{}', now() FROM n`,
      );
      await deliveries(client, userId, [
        { channel: 'push', status: 'SENT', priority: 'normal', sentAgo: '1 minute' },
        { channel: 'push', status: 'PENDING', priority: 'normal', sentAgo: null },
        { channel: 'push', status: 'SENT', priority: 'critical', sentAgo: '1 minute' },
      ]);
      await client.query('ANALYZE notification_deliveries');
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${recentSendsSql}`, [[userId]]);
      const scans = planNodes(rows[0]['QUERY PLAN'][0].Plan as PlanNode).filter((n) => n['Index Name'] || n['Relation Name']);
      const byIndex = scans.find((n) => n['Index Name'] === 'notification_deliveries_recent_sends_idx');
      expect(byIndex, JSON.stringify(scans.map((n) => [n['Node Type'], n['Index Name'] ?? n['Relation Name']]))).toBeDefined();
      // Only the one countable send is in the index for this user: nothing to filter out.
      expect(byIndex!['Actual Rows']).toBe(1);
      expect(scans.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false);
    });
  });
});
