import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { EventBus } from '../../lib/events/event-bus.js';
import { createRedis, type Redis } from '../../lib/redis.js';
import type { StoredEvent } from '../../lib/events/stored-event.js';
import { EventValidationError } from '../../lib/events/validation-error.js';
import { createCustomer, deleteCustomer, testContext, transactionCompleted, waitFor } from '../support/harness.js';

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

const countEvents = async (id: string) =>
  (await ctx.pool.query<{ n: number }>('SELECT count(*) AS n FROM domain_events WHERE id = $1', [id])).rows[0]!.n;

describe('EventBus.publish', () => {
  it('stores the event and broadcasts it to pattern subscribers filtered by type', async () => {
    const heard: StoredEvent[] = [];
    const other: StoredEvent[] = [];
    const stopAll = await ctx.bus.subscribe('*', (e) => void heard.push(e));
    const stopFrozen = await ctx.bus.subscribe(['account.frozen'], (e) => void other.push(e));
    const event = transactionCompleted(customer);
    const result = await ctx.bus.publish(event);

    expect(result).toMatchObject({ id: event.id, type: 'transaction.completed', duplicate: false });
    expect(await countEvents(event.id)).toBe(1);
    await waitFor(async () => heard.some((e) => e.id === event.id), 5_000, 'broadcast');
    expect(heard.find((e) => e.id === event.id)?.payload).toEqual(event.payload);
    expect(other.some((e) => e.id === event.id)).toBe(false);
    stopAll();
    stopFrozen();
  });

  it('treats the same id as the same event: one row, the stored copy returned', async () => {
    const event = transactionCompleted(customer);
    const first = await ctx.bus.publish(event);
    const second = await ctx.bus.publish({ ...event, payload: { ...event.payload, amount: '999.00' } });
    expect(second.duplicate).toBe(true);
    expect(second.storedAt).toBe(first.storedAt);
    expect((second.event.payload as { amount: string }).amount).toBe('1250.00');
    expect(await countEvents(event.id)).toBe(1);
  });

  it('collapses concurrent publishes of one id into one row', async () => {
    const event = transactionCompleted(customer);
    const results = await Promise.all(Array.from({ length: 20 }, () => ctx.bus.publish(event)));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await countEvents(event.id)).toBe(1);
  });

  it('writes one batch at a time: publishes arriving while it commits share the next insert', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const batches: number[] = [];
    const pool = new Proxy(ctx.pool, {
      get(target, key) {
        if (key !== 'query') return Reflect.get(target, key);
        return async (...args: Parameters<typeof target.query>) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          try {
            const result = await (target.query as (...a: unknown[]) => Promise<{ rows: unknown[] }>)(...args);
            batches.push(result.rows.length);
            return result;
          } finally {
            inFlight--;
          }
        };
      },
    });
    const bus = new EventBus({ pool, publisher: ctx.redis, logger: pino({ level: 'silent' }) });
    const first = bus.publish(transactionCompleted(customer));
    // The first batch leaves at the end of this turn; the next 40 arrive while it is in Postgres.
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 40 }, () => transactionCompleted(customer));
    const results = await Promise.all([first, ...rest.map((event) => bus.publish(event))]);

    expect(results.filter((r) => r.duplicate)).toHaveLength(0);
    expect(maxInFlight).toBe(1);
    expect(batches).toEqual([1, 40]);
    for (const event of rest) expect(await countEvents(event.id)).toBe(1);
  });

  it('writes nothing for an invalid event and names each bad field', async () => {
    const event = transactionCompleted(customer, { amount: 12.5, direction: 'up' });
    const error = await ctx.bus.publish(event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).details.map((d) => d.path).sort()).toEqual(['payload.amount', 'payload.direction']);
    expect(await countEvents(event.id)).toBe(0);
  });

  it('joins the caller transaction: a rollback leaves no event', async () => {
    const event = transactionCompleted(customer);
    await expect(
      ctx.prisma.$transaction(async (tx) => {
        await ctx.bus.publish(event, { tx });
        expect(await tx.domainEvent.count({ where: { id: event.id } })).toBe(1);
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await countEvents(event.id)).toBe(0);
  });

  it('commits with the caller transaction and broadcasts only after commit', async () => {
    const event = transactionCompleted(customer);
    const heard: string[] = [];
    const stop = await ctx.bus.subscribe(['transaction.completed'], (e) => void heard.push(e.id));
    await ctx.bus.transaction(async (tx, publish) => {
      await publish(event);
      await tx.customer.update({ where: { userId: customer.userId }, data: { locale: 'en' } });
      await new Promise((r) => setTimeout(r, 100));
      expect(heard).not.toContain(event.id);
    });
    await waitFor(async () => heard.includes(event.id), 5_000, 'post-commit broadcast');
    expect(await countEvents(event.id)).toBe(1);
    stop();
  });

  it('keeps a failing subscriber from affecting the others', async () => {
    const heard: string[] = [];
    const stopBad = await ctx.bus.subscribe('*', () => {
      throw new Error('handler bug');
    });
    const stopGood = await ctx.bus.subscribe('*', (e) => void heard.push(e.id));
    const event = transactionCompleted(customer);
    await ctx.bus.publish(event);
    await waitFor(async () => heard.includes(event.id), 5_000, 'the healthy subscriber');
    stopBad();
    stopGood();
  });

  it('stops listening when its last handler leaves, and listens again on the next subscribe', async () => {
    const connections: Redis[] = [];
    const bus = new EventBus({
      pool: ctx.pool,
      publisher: ctx.redis,
      createSubscriber: () => {
        const connection = createRedis(ctx.config.REDIS_URL);
        connections.push(connection);
        return connection;
      },
      logger: ctx.logger,
    });
    try {
      const heard: string[] = [];
      const stopFirst = await bus.subscribe('*', (e) => void heard.push(e.id));
      const stopSecond = await bus.subscribe(['transaction.completed'], (e) => void heard.push(e.id));
      stopFirst();
      expect(connections[0]!.status).toBe('ready');
      stopSecond();
      await waitFor(async () => connections[0]!.status === 'end', 5_000, 'the subscriber connection to close');

      const missed = transactionCompleted(customer);
      await bus.publish(missed);
      const stopAgain = await bus.subscribe('*', (e) => void heard.push(e.id));
      expect(connections).toHaveLength(2);
      const event = transactionCompleted(customer);
      await bus.publish(event);
      await waitFor(async () => heard.includes(event.id), 5_000, 'the broadcast after subscribing again');
      expect(heard).not.toContain(missed.id);
      stopAgain();
    } finally {
      await bus.close();
      for (const connection of connections) connection.disconnect();
    }
  });

  it('reads only the channels its handlers listen to', async () => {
    const warnings: string[] = [];
    const subscriber = createRedis(ctx.config.REDIS_URL);
    const bus = new EventBus({
      pool: ctx.pool,
      publisher: ctx.redis,
      createSubscriber: () => subscriber,
      logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }),
    });
    try {
      const heard: string[] = [];
      const stop = await bus.subscribe(['transaction.completed'], (e) => void heard.push(e.id));
      // Garbage on both channels: only the one a handler listens to is parsed (and complained of).
      await ctx.redis.publish('events:notification', 'not json');
      await ctx.redis.publish('events:transaction', 'not json either');
      const event = transactionCompleted(customer);
      await bus.publish(event);
      // One connection delivers in publish order: once the event is heard, both were read.
      await waitFor(async () => heard.includes(event.id), 5_000, 'the broadcast');
      expect(warnings.filter((w) => w.includes('ignoring a malformed broadcast'))).toHaveLength(1);
      stop();
    } finally {
      await bus.close();
      subscriber.disconnect();
    }
  });

  it('queries nothing for a random id', async () => {
    expect(await countEvents(randomUUID())).toBe(0);
  });
});
