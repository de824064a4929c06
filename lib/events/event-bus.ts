import type { Logger } from '../logger.js';
import type { Pool } from '../db/pool.js';
import type { PrismaClient, PrismaTx } from '../db/prisma.js';
import { pgExecutor, prismaExecutor } from '../db/sql-executor.js';
import type { Redis } from '../redis.js';
import { Batcher } from '../util/batcher.js';
import type { EventType } from './catalog/index.js';
import { parseEvent, type EventInput, type HeraldEvent } from './envelope.js';
import { insertEvents, type InsertOutcome } from './event-store.js';
import type { StoredEvent } from './stored-event.js';

export const channelPrefix = 'events:';

export interface PublishResult {
  id: string;
  type: EventType;
  storedAt: string;
  duplicate: boolean;
  event: StoredEvent;
}

export interface PublishOptions {
  /** The caller's Prisma transaction: the event commits or rolls back with the caller's own writes. */
  tx?: PrismaTx;
}

export type EventHandler = (event: StoredEvent) => unknown | Promise<unknown>;

export interface EventBusOptions {
  pool: Pool;
  prisma?: PrismaClient;
  /** A connection used only for PUBLISH; it must not queue commands while Redis is away. */
  publisher: Redis;
  /** Created lazily for subscribe(); a connection in subscriber mode can do nothing else. */
  createSubscriber?: () => Redis;
  logger: Logger;
  maxPayloadBytes?: number;
  onHandlerError?: (error: unknown, event: StoredEvent) => void;
}

/**
 * Postgres is where an event lives; Redis pub/sub only tells live subscribers it exists.
 * A lost broadcast costs latency (the sweeper finds the event), never the event.
 */
export class EventBus {
  private readonly writer: Batcher<HeraldEvent, InsertOutcome>;
  private subscriber: Redis | null = null;
  private readonly handlers = new Set<{ types: Set<string> | '*'; handler: EventHandler }>();

  constructor(private readonly options: EventBusOptions) {
    this.writer = new Batcher({
      run: (events) => insertEvents(pgExecutor(options.pool), events),
      maxSize: 500,
      lingerMs: 0,
      maxPending: 20_000,
    });
  }

  /** Validates, stores, then broadcasts. Throws EventValidationError before writing anything. */
  async publish(input: EventInput | unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const event = parseEvent(input, { maxPayloadBytes: this.options.maxPayloadBytes });
    if (options.tx) {
      const [outcome] = await insertEvents(prismaExecutor(options.tx), [event]);
      // Inside a caller's transaction the event is not visible until commit; the hint may
      // beat the commit, in which case the sweeper picks the event up after its grace period.
      if (!outcome!.duplicate) await this.broadcast([outcome!.event]);
      return toResult(outcome!);
    }
    const outcome = await this.writer.add(event);
    if (!outcome.duplicate) await this.broadcast([outcome.event]);
    return toResult(outcome);
  }

  /**
   * Runs `fn` in a Prisma transaction and broadcasts the events it published only after
   * commit, so subscribers never hear of an event they cannot yet read.
   */
  async transaction<T>(fn: (tx: PrismaTx, publish: (input: EventInput) => Promise<PublishResult>) => Promise<T>): Promise<T> {
    const prisma = this.options.prisma;
    if (!prisma) throw new Error('EventBus.transaction needs the prisma option');
    const stored: StoredEvent[] = [];
    const result = await prisma.$transaction(async (tx) =>
      fn(tx, async (input) => {
        const event = parseEvent(input, { maxPayloadBytes: this.options.maxPayloadBytes });
        const [outcome] = await insertEvents(prismaExecutor(tx), [event]);
        if (!outcome!.duplicate) stored.push(outcome!.event);
        return toResult(outcome!);
      }),
    );
    await this.broadcast(stored);
    return result;
  }

  /** Broadcast is best effort by design: failure is logged and the sweeper covers it. */
  async broadcast(events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      const pipeline = this.options.publisher.pipeline();
      for (const event of events) pipeline.publish(channelPrefix + event.aggregateType, JSON.stringify(event));
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
    } catch (error) {
      this.options.logger.warn({ err: error, events: events.length }, 'broadcast failed; events stay in the outbox for the sweeper');
    }
  }

  /** Live subscription: fast, lossy by nature (see the sweeper for the durable path). */
  async subscribe(types: EventType[] | '*', handler: EventHandler): Promise<() => void> {
    const entry = { types: types === '*' ? ('*' as const) : new Set<string>(types), handler };
    this.handlers.add(entry);
    if (!this.subscriber) {
      if (!this.options.createSubscriber) throw new Error('EventBus.subscribe needs the createSubscriber option');
      this.subscriber = this.options.createSubscriber();
      this.subscriber.on('pmessage', (_pattern, _channel, message) => this.deliver(message));
      await this.subscriber.psubscribe(`${channelPrefix}*`);
    }
    return () => {
      this.handlers.delete(entry);
    };
  }

  private deliver(message: string): void {
    let event: StoredEvent;
    try {
      event = JSON.parse(message) as StoredEvent;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'ignoring a malformed broadcast');
      return;
    }
    for (const { types, handler } of this.handlers) {
      if (types !== '*' && !types.has(event.type)) continue;
      // Each handler is isolated: one throwing neither stops the others nor the subscription.
      Promise.resolve()
        .then(() => handler(event))
        .catch((error) => {
          this.options.logger.error({ err: error, eventId: event.id, type: event.type }, 'event handler failed');
          this.options.onHandlerError?.(error, event);
        });
    }
  }

  async close(): Promise<void> {
    await this.writer.drain();
    this.handlers.clear();
    if (this.subscriber) {
      this.subscriber.disconnect();
      this.subscriber = null;
    }
  }
}

function toResult(outcome: InsertOutcome): PublishResult {
  return {
    id: outcome.event.id,
    type: outcome.event.type,
    storedAt: outcome.event.storedAt,
    duplicate: outcome.duplicate,
    event: outcome.event,
  };
}
