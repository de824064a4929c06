import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { EventProcessor, type DurableHandler } from '../../lib/events/event-processor.js';
import { replayEvents } from '../../lib/events/replay.js';
import type { StoredEvent } from '../../lib/events/stored-event.js';
import { createCustomer, deleteCustomer, testContext, transactionCompleted } from '../support/harness.js';

let ctx: AppContext;
let customer: { userId: string; accountNumber: string };

beforeAll(async () => {
  ctx = testContext();
  customer = await createCustomer(ctx);
});
afterAll(async () => {
  await deleteCustomer(ctx, customer.userId);
  await ctx.close();
});

function processor(handlers: DurableHandler[], maxAttempts = 3, batchSize = 100) {
  return new EventProcessor({ pool: ctx.pool, handlers, logger: ctx.logger, graceMs: 0, batchSize, maxAttempts });
}

/** A handler whose after-commit work (the sends, in the notifier) waits until `release()`. */
function heldAfterCommit() {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const claimed: string[] = [];
  const handler: DurableHandler = {
    name: 'held-sends',
    types: ['transaction.completed'],
    async handle(events: StoredEvent[]) {
      claimed.push(...events.map((e) => e.id));
      return () => held;
    },
  };
  return { handler, claimed, release };
}

async function publishedIds(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const event = transactionCompleted(customer);
    await ctx.bus.publish(event);
    ids.push(event.id);
  }
  return ids;
}

/** Records which events it saw, and writes a row so we can see its writes commit or roll back. */
function recorder(name: string, poison?: string): DurableHandler & { seen: string[] } {
  const seen: string[] = [];
  return {
    name,
    types: ['transaction.completed'],
    seen,
    async handle(events: StoredEvent[], { client }) {
      for (const e of events) {
        await client.query('INSERT INTO event_handler_failures (event_id, handler, error) VALUES ($1, $2, $3)', [e.id, `${name}:marker`, 'not an error']);
        if (e.id === poison) throw new Error(`cannot handle ${e.id}`);
      }
      seen.push(...events.map((e) => e.id));
    },
  };
}

async function markers(eventId: string) {
  const { rows } = await ctx.pool.query('SELECT handler, error FROM event_handler_failures WHERE event_id = $1 ORDER BY id', [eventId]);
  return rows;
}

describe('EventProcessor', () => {
  it('isolates a poison event: the rest of its batch is processed, the failure is recorded, its writes are undone', async () => {
    const events = [transactionCompleted(customer), transactionCompleted(customer), transactionCompleted(customer)];
    for (const e of events) await ctx.bus.publish(e);
    const poison = events[1]!.id;
    const failing = recorder('failing', poison);
    const healthy = recorder('healthy');

    const outcome = await processor([failing, healthy]).processIds(events.map((e) => e.id));
    expect(outcome).toEqual({ processed: 2, failed: 1 });
    expect(failing.seen.sort()).toEqual([events[0]!.id, events[2]!.id].sort());
    // A failing handler does not stop the next handler for the other events.
    expect(healthy.seen.sort()).toEqual([events[0]!.id, events[2]!.id].sort());

    expect(await markers(poison)).toEqual([{ handler: 'failing', error: `cannot handle ${poison}` }]);
    const row = (await ctx.pool.query('SELECT quarantined_at, attempts, last_error, retry_at FROM event_outbox WHERE event_id = $1', [poison])).rows[0];
    expect(row).toMatchObject({ quarantined_at: null, attempts: 1 });
    expect(row.last_error).toContain('failing: cannot handle');
    expect(row.retry_at.getTime()).toBeGreaterThan(Date.now());
    // The two that succeeded are no longer owed a run.
    const owed = await ctx.pool.query('SELECT event_id FROM event_outbox WHERE event_id = ANY($1::uuid[])', [events.map((e) => e.id)]);
    expect(owed.rows.map((r) => r.event_id)).toEqual([poison]);
    for (const id of [events[0]!.id, events[2]!.id]) {
      expect((await markers(id)).map((m) => m.handler)).toEqual(['failing:marker', 'healthy:marker']);
    }
  });

  it('quarantines an event after the last attempt so it cannot block the sweeper forever', async () => {
    const event = transactionCompleted(customer);
    await ctx.bus.publish(event);
    const p = processor([recorder('always-failing', event.id)], 2);
    await p.processIds([event.id]);
    await ctx.pool.query('UPDATE event_outbox SET retry_at = NULL WHERE event_id = $1', [event.id]);
    await p.processIds([event.id]);
    const row = (await ctx.pool.query('SELECT quarantined_at, attempts FROM event_outbox WHERE event_id = $1', [event.id])).rows[0];
    expect(row.attempts).toBe(2);
    expect(row.quarantined_at).not.toBeNull();
    // A hint does not take a quarantined event again (only a replay does).
    expect(await p.processIds([event.id])).toEqual({ processed: 0, failed: 0 });
    expect((await markers(event.id)).filter((m) => m.handler === 'always-failing')).toHaveLength(2);
  });

  it('a replay gives a quarantined event a fresh budget, and once it succeeds it is no longer owed', async () => {
    const event = transactionCompleted(customer);
    await ctx.bus.publish(event);
    await processor([recorder('always-failing', event.id)], 1).processIds([event.id]);
    expect((await ctx.pool.query('SELECT quarantined_at FROM event_outbox WHERE event_id = $1', [event.id])).rows[0].quarantined_at).not.toBeNull();

    expect(await replayEvents(ctx, { eventIds: [event.id] })).toEqual({ replayed: 1 });
    expect((await ctx.pool.query('SELECT 1 FROM event_outbox WHERE event_id = $1', [event.id])).rows).toEqual([]);
    // The replay ran the real handlers: the customer's notification exists.
    const n = await ctx.pool.query('SELECT count(*)::int AS n FROM notifications WHERE event_id = $1', [event.id]);
    expect(n.rows[0].n).toBe(1);
  });

  it('claims and runs handlers planning without sequential scans, for that transaction only', async () => {
    const event = transactionCompleted(customer);
    await ctx.bus.publish(event);
    const settings: string[] = [];
    const probe: DurableHandler = {
      name: 'plan-settings',
      types: ['transaction.completed'],
      async handle(_events, { client }) {
        settings.push((await client.query("SELECT current_setting('enable_seqscan') AS v")).rows[0].v);
      },
    };
    expect(await processor([probe]).processIds([event.id])).toEqual({ processed: 1, failed: 0 });
    expect(settings).toEqual(['off']);
    // SET LOCAL ends with the transaction: the pooled connections plan as configured again.
    const after = await Promise.all(Array.from({ length: 5 }, () => ctx.pool.query('SHOW enable_seqscan')));
    expect(after.map((r) => r.rows[0].enable_seqscan)).toEqual(Array(5).fill('on'));
  });

  it('lets only one of two concurrent claimers process an event', async () => {
    const events = Array.from({ length: 20 }, () => transactionCompleted(customer));
    for (const e of events) await ctx.bus.publish(e);
    const a = recorder('a');
    const b = recorder('b');
    const ids = events.map((e) => e.id);
    await Promise.all([processor([a]).processIds(ids), processor([b]).processIds(ids), processor([a]).processIds(ids)]);
    const seen = [...a.seen, ...b.seen].sort();
    expect(seen).toEqual([...ids].sort());
  });

  it('sweeps events that are unprocessed after the grace period', async () => {
    const event = transactionCompleted(customer);
    await ctx.bus.publish(event);
    const handler = recorder('sweeper');
    const outcome = await processor([handler]).sweepAll();
    expect(outcome.processed).toBeGreaterThanOrEqual(1);
    expect(handler.seen).toContain(event.id);
  });

  it('claims new events while small earlier batches are still running their after-commit work', async () => {
    const { handler, claimed, release } = heldAfterCommit();
    const p = processor([handler]);
    const ids = await publishedIds(6);
    try {
      // One hint at a time: six batches of one event, each left sending.
      for (const [i, id] of ids.entries()) {
        const late = new Promise((_, reject) => setTimeout(() => reject(new Error(`claim ${i + 1} waited for earlier batches’ sends`)), 2_000));
        await Promise.race([p.hint(id), late]);
      }
      expect(claimed).toEqual(ids);
    } finally {
      release();
      await p.drain();
    }
  });

  it('stops claiming once four batches’ worth of events are still sending, and goes on when they finish', async () => {
    const { handler, claimed, release } = heldAfterCommit();
    const p = processor([handler], 3, 2); // four batches' worth: 8 events
    const ids = await publishedIds(20);
    const hints = ids.map((id) => p.hint(id));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // At most the bound plus the claims already under way (two at a time, of 2 events each).
    expect(claimed.length).toBeGreaterThanOrEqual(8);
    expect(claimed.length).toBeLessThanOrEqual(12);
    release();
    await Promise.all(hints);
    await p.drain();
    expect([...claimed].sort()).toEqual([...ids].sort());
  });
});
