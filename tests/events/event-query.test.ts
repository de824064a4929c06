import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { eventFilterConditions, queryEvents, type EventFilter } from '../../lib/events/event-query.js';
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

/** The indexes a filtered event query can use, with sequential scans priced out. */
async function indexesFor(filter: EventFilter): Promise<string[]> {
  const params: unknown[] = [];
  const where = eventFilterConditions(filter, params);
  return inRolledBackTransaction(ctx, async (client) => {
    // An empty test table makes any plan cheap; this asks which index the conditions can use.
    await client.query('SET LOCAL enable_seqscan = off');
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) SELECT id FROM domain_events WHERE ${where.join(' AND ')}`, params);
    return planNodes(rows[0]['QUERY PLAN'][0].Plan as PlanNode).flatMap((n) => (n['Index Name'] ? [n['Index Name']] : []));
  });
}

describe('event queries', () => {
  it('find events by user, aggregate and correlation id through the hashed indexes', async () => {
    expect(await indexesFor({ userId: 'u-1' })).toEqual(['domain_events_user_key_idx']);
    expect(await indexesFor({ aggregateId: 'txn-1' })).toEqual(['domain_events_aggregate_key_idx']);
    expect(await indexesFor({ correlationId: 'req-1' })).toEqual(['domain_events_correlation_key_idx']);
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
