import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { createDebitAlertHandler } from '../../lib/banking/debit-alerts.js';
import { stableEventId } from '../../lib/banking/stable-id.js';
import { withTransaction } from '../../lib/db/pool.js';
import { EventProcessor } from '../../lib/events/event-processor.js';
import { replayEvents } from '../../lib/events/replay.js';
import { loadEvents } from '../../lib/events/event-store.js';
import { pgExecutor } from '../../lib/db/sql-executor.js';
import { notificationHandlers } from '../../lib/notifications/notifier.js';
import { testContext, transactionCompleted } from '../support/harness.js';
import { addRule, alertsFor, BankingFixtures } from './support.js';

let ctx: AppContext;
let fixtures: BankingFixtures;
let processor: EventProcessor;

beforeAll(() => {
  ctx = testContext();
  fixtures = new BankingFixtures(ctx);
  // The handlers every notifier runs, the debit alerts among them.
  processor = new EventProcessor({
    pool: ctx.pool,
    handlers: notificationHandlers({ logger: ctx.logger, broadcast: (events) => ctx.bus.broadcast(events) }),
    logger: ctx.logger,
    graceMs: 0,
    batchSize: 100,
    maxAttempts: 3,
  });
});
afterAll(async () => {
  await fixtures.cleanup();
  await ctx.close();
});

function transaction(userId: string, accountNumber: string, amount: string, direction: 'debit' | 'credit' = 'debit') {
  return { ...transactionCompleted({ userId, accountNumber }, { amount, direction }), metadata: { userId, correlationId: `c-${randomUUID()}`, source: 'test' } };
}

describe('debit_over rules', () => {
  it('fire alert.triggered for a debit over the amount, in the transaction that processes it', async () => {
    const { userId, accountNumbers } = await fixtures.customer(1);
    const [n] = accountNumbers as [string];
    const rule = await addRule(ctx, n, 'debit_over', '1000.00');
    const over = transaction(userId, n, '2500.00');
    const atLimit = transaction(userId, n, '1000.00');
    const credit = transaction(userId, n, '9000.00', 'credit');
    for (const e of [over, atLimit, credit]) await ctx.bus.publish(e);

    expect(await processor.processIds([over.id, atLimit.id, credit.id])).toEqual({ processed: 3, failed: 0 });
    const alerts = await alertsFor(ctx, n);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      id: stableEventId('debit-rule', rule, over.id),
      type: 'alert.triggered',
      aggregate_id: rule,
      payload: { alertId: rule, accountNumber: n, rule: 'debit_over', value: '2500.00', threshold: '1000.00', currency: 'MWK' },
      metadata: { userId, correlationId: over.metadata.correlationId, causationId: over.id, source: 'herald.alert-rules' },
    });
    // The alert is owed a run of its own handlers (fan-out), like any published event.
    const owed = await ctx.pool.query('SELECT 1 FROM event_outbox WHERE event_id = $1', [alerts[0]!.id]);
    expect(owed.rows).toHaveLength(1);
  });

  it('does not fire twice when the same event is processed again (replay, retry)', async () => {
    const { userId, accountNumbers } = await fixtures.customer(1);
    const [n] = accountNumbers as [string];
    await addRule(ctx, n, 'debit_over', '10.00');
    const event = transaction(userId, n, '50.00');
    await ctx.bus.publish(event);
    await processor.processIds([event.id]);
    expect(await alertsFor(ctx, n)).toHaveLength(1);

    // An operator replay runs every durable handler again.
    expect(await replayEvents(ctx, { eventIds: [event.id] })).toEqual({ replayed: 1 });
    expect(await alertsFor(ctx, n)).toHaveLength(1);

    // A retried batch (the handler runs again on the same event): nothing stored, nothing to broadcast.
    const handler = createDebitAlertHandler({ broadcast: async () => expect.unreachable('nothing new to broadcast') });
    const [stored] = await loadEvents(pgExecutor(ctx.pool), [event.id]);
    const after = await withTransaction(ctx.pool, (client) => handler.handle([stored!], { client, replay: false }));
    expect(after).toBeUndefined();
    expect(await alertsFor(ctx, n)).toHaveLength(1);
  });

  it('costs one statement per batch, writes only on a match, and nothing at all for credits', async () => {
    const { userId, accountNumbers } = await fixtures.customer(2);
    const [a, b] = accountNumbers as [string, string];
    await addRule(ctx, a, 'debit_over', '100.00');
    await addRule(ctx, a, 'debit_over', '200.00');
    await addRule(ctx, a, 'balance_below', '1000000.00');
    const handler = createDebitAlertHandler();
    const statementsFor = async (events: ReturnType<typeof transaction>[]) => {
      for (const e of events) await ctx.bus.publish(e);
      const loaded = await loadEvents(pgExecutor(ctx.pool), events.map((e) => e.id));
      let statements = 0;
      await withTransaction(ctx.pool, async (client) => {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        const counting = Object.assign(Object.create(client), { query: (...args: unknown[]) => (statements++, query(...args)) });
        await handler.handle(loaded, { client: counting, replay: false });
      });
      return statements;
    };

    expect(await statementsFor([transaction(userId, b, '99999.00'), transaction(userId, a, '50.00')])).toBe(1);
    expect(await statementsFor([transaction(userId, b, '5.00', 'credit'), transaction(userId, a, '5000.00', 'credit')])).toBe(0);
    // One statement to match, one to store the three alerts (150 > 100; 250 > 100 and > 200).
    expect(await statementsFor([transaction(userId, a, '150.00'), transaction(userId, a, '250.00')])).toBe(2);
    expect((await alertsFor(ctx, a)).map((x) => `${x.payload.value}>${x.payload.threshold}`).sort()).toEqual(['150.00>100.00', '250.00>100.00', '250.00>200.00']);
    expect(await alertsFor(ctx, b)).toEqual([]);
  });
});
