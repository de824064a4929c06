import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { queryEvents, selectEvents, type EventSelection } from '../../lib/events/event-query.js';
import { eventColumns } from '../../lib/events/stored-event.js';
import { createCustomer, deleteCustomer, inRolledBackTransaction, testContext, transactionCompleted } from '../support/harness.js';
import { planNodes, type PlanNode } from '../support/query-plans.js';

let ctx: AppContext;
const users: string[] = [];

beforeAll(() => {
  ctx = testContext();
});
afterAll(async () => {
  for (const id of users) await deleteCustomer(ctx, id);
  await ctx.close();
});

async function customer() {
  const c = await createCustomer(ctx);
  users.push(c.userId);
  return c;
}

/** The plan of the SQL a selection runs, on this small test table with sequential scans priced out. */
async function planOf(selection: EventSelection): Promise<PlanNode> {
  const params: unknown[] = [];
  const sql = selectEvents(eventColumns, selection, params);
  return inRolledBackTransaction(ctx, async (client) => {
    // An empty test table makes any plan cheap; this asks which index the conditions can use.
    await client.query('SET LOCAL enable_seqscan = off');
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    return rows[0]['QUERY PLAN'][0].Plan as PlanNode;
  });
}

type ScanNode = PlanNode & { 'Index Cond'?: string };

/**
 * Events of one user stored on several UTC days (today, yesterday, three days and forty days
 * ago), written straight to the table as already processed so that no handler runs on them.
 * Two share a timestamp, so the id breaks the tie.
 */
async function storeOverDays(userId: string, aggregateId: string, correlationId: string): Promise<{ id: string; storedAt: number }[]> {
  const daysAgo = [0, 0, 1, 3, 3, 3, 40];
  const { rows } = await ctx.pool.query<{ id: string; stored_at: Date }>(
    `INSERT INTO domain_events (id, type, aggregate_type, aggregate_id, user_id, correlation_id, source, payload, metadata, occurred_at, stored_at)
     SELECT gen_random_uuid(), 'transaction.completed', 'transaction', $2, $1, $3, 'test', '{}', '{}', t, t
       FROM (SELECT date_trunc('milliseconds', now()) - make_interval(days => d) + make_interval(secs => CASE WHEN i <= 2 THEN 0 ELSE i END) AS t
               FROM unnest($4::int[]) WITH ORDINALITY AS x(d, i)) s
     RETURNING id, stored_at`,
    [userId, aggregateId, correlationId, daysAgo],
  );
  return rows.map((r) => ({ id: r.id, storedAt: r.stored_at.getTime() }));
}

const newestFirst = (a: { id: string; storedAt: number }, b: { id: string; storedAt: number }) =>
  b.storedAt - a.storedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

describe('event queries', () => {
  it('find events by user, aggregate and correlation id one stored day at a time, through the day-led lookup indexes', async () => {
    const cases: [EventSelection, string][] = [
      [{ userId: 'u-1', order: 'newest', limit: 51 }, 'domain_events_user_day_key_idx'],
      [{ aggregateId: 'txn-1', order: 'newest', limit: 51 }, 'domain_events_aggregate_day_key_idx'],
      [{ correlationId: 'req-1', order: 'oldest', limit: 10_001 }, 'domain_events_correlation_day_key_idx'],
    ];
    for (const [selection, index] of cases) {
      const plan = await planOf(selection);
      // The walk over the days is in order already, so the LIMIT stops it at the day that fills the page.
      expect(plan['Node Type']).toBe('Limit');
      const sort = planNodes(plan).find((n) => n['Node Type'] === 'Incremental Sort') as PlanNode & { 'Presorted Key'?: string[] };
      expect(sort?.['Presorted Key']).toEqual(['day.n']);
      const scans = planNodes(plan).filter((n): n is ScanNode => n['Index Name'] === index);
      expect(scans).toHaveLength(1);
      // Both leading columns are index conditions: each probe reads one day's entries of one id.
      expect(scans[0]!['Index Cond']).toMatch(/::date = \(day\.at\)::date\) AND \(hashtext\(/);
    }
  });

  it("page a user's events newest first across stored days, with the id breaking ties", async () => {
    const { userId } = await customer();
    const aggregateId = `acct-${randomUUID()}`;
    const correlationId = `corr-${randomUUID()}`;
    const stored = (await storeOverDays(userId, aggregateId, correlationId)).sort(newestFirst);

    for (const filter of [{ userId }, { aggregateId }, { correlationId }, { userId, aggregateId, correlationId }]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await queryEvents(ctx.pool, { ...filter, limit: 2, cursor });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(stored.map((e) => e.id));
    }

    // Bounds narrow the walk: yesterday and three days ago, not today nor forty days ago.
    const from = new Date(Date.now() - 10 * 86_400_000);
    const to = new Date(stored.find((e) => e.storedAt < stored[0]!.storedAt - 3_600_000)!.storedAt + 1);
    const bounded = await queryEvents(ctx.pool, { userId, from, to, limit: 10 });
    expect(bounded.items.map((e) => e.id)).toEqual(stored.filter((e) => e.storedAt >= from.getTime() && e.storedAt < to.getTime()).map((e) => e.id));
    expect(bounded.items).toHaveLength(4);

    // Oldest first, as a replay selects them.
    const params: unknown[] = [];
    const { rows } = await ctx.pool.query<{ id: string }>(selectEvents('id, stored_at', { userId, order: 'oldest', limit: 5 }, params), params);
    expect(rows.map((r) => r.id)).toEqual([...stored].reverse().slice(0, 5).map((e) => e.id));
  });

  it("return one user's events only", async () => {
    const [a, b] = [await customer(), await customer()];
    const correlationId = `corr-${randomUUID()}`;
    const events = [transactionCompleted(a), transactionCompleted(a), transactionCompleted(b)].map((e) => ({ ...e, metadata: { ...e.metadata, correlationId } }));
    for (const event of events) await ctx.bus.publish(event);

    const ofA = await queryEvents(ctx.pool, { userId: a.userId, limit: 10 });
    expect(ofA.items.map((e) => e.id).sort()).toEqual([events[0]!.id, events[1]!.id].sort());
    const ofB = await queryEvents(ctx.pool, { userId: b.userId, correlationId, limit: 10 });
    expect(ofB.items.map((e) => e.id)).toEqual([events[2]!.id]);
  });
});
