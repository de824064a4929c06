import type { Logger } from '../logger.js';
import type { Redis } from '../redis.js';

/**
 * The live delivery-status feed (SPEC §8 `GET /v1/stream`, §9 live feed).
 *
 * Publisher side: the notifier PUBLISHes one JSON message per delivery outcome on
 * `herald:delivery-status` after the outcome is committed. It is a best-effort hint for
 * dashboards: Postgres stays the record, a lost message is never a lost delivery, so
 * publishing never throws and never waits for Redis.
 *
 * Subscriber side: one Redis connection per API process (`StatusFeedSubscriber`) fans each
 * message out to the in-process listeners (SSE clients).
 */
export const statusFeedChannel = 'herald:delivery-status';

export interface DeliveryStatusChange {
  deliveryId: string;
  notificationId: string;
  eventType: string;
  userId: string;
  channel: string;
  status: string;
  /** ISO-8601 time of the change. */
  at: string;
}

/** PUBLISHes the changes in one pipeline. Best effort: resolves even when Redis is away. */
export async function publishStatusChanges(redis: Redis, changes: readonly DeliveryStatusChange[], logger?: Logger): Promise<void> {
  if (changes.length === 0) return;
  try {
    const pipeline = redis.pipeline();
    for (const change of changes) pipeline.publish(statusFeedChannel, JSON.stringify(toWire(change)));
    await pipeline.exec();
  } catch (error) {
    logger?.debug({ err: error, count: changes.length }, 'status feed publish failed (best effort)');
  }
}

export interface StatusFeedPublisherOptions {
  /** How long the first change waits for company before the batch is published. */
  lingerMs?: number;
  /** Changes per PUBLISH pipeline. */
  maxBatch?: number;
  /** Changes held (buffered or in flight) at most; beyond it new changes are dropped and counted. */
  maxPending?: number;
  logger?: Logger;
}

export interface StatusFeedPublisher {
  (change: DeliveryStatusChange): void;
  /** Publishes what is buffered now; resolves when every batch in flight has finished. */
  flush(): Promise<void>;
  /** Changes dropped because the buffer was full. */
  readonly dropped: number;
}

/**
 * A fire-and-forget publisher for the dispatcher's `onOutcome` hook: batches changes with a
 * short linger, publishes each batch as one pipeline, and is bounded (drops, never blocks
 * the caller, when Redis cannot keep up).
 */
export function createStatusFeedPublisher(redis: Redis, options: StatusFeedPublisherOptions = {}): StatusFeedPublisher {
  const lingerMs = options.lingerMs ?? 20;
  const maxBatch = options.maxBatch ?? 500;
  const maxPending = options.maxPending ?? 10_000;
  let buffer: DeliveryStatusChange[] = [];
  let inFlight = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | null = null;
  const running = new Set<Promise<void>>();

  const send = () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    while (buffer.length > 0) {
      const batch = buffer.slice(0, maxBatch);
      buffer = buffer.slice(batch.length);
      inFlight += batch.length;
      const p = publishStatusChanges(redis, batch, options.logger).finally(() => {
        inFlight -= batch.length;
        running.delete(p);
      });
      running.add(p);
    }
  };

  const publisher = ((change: DeliveryStatusChange) => {
    if (buffer.length + inFlight >= maxPending) {
      dropped++;
      if (dropped === 1 || dropped % 1_000 === 0) options.logger?.warn({ dropped }, 'status feed buffer full; dropping changes');
      return;
    }
    buffer.push(change);
    if (buffer.length >= maxBatch) send();
    else if (!timer) {
      timer = setTimeout(send, lingerMs);
      timer.unref();
    }
  }) as StatusFeedPublisher;
  publisher.flush = async () => {
    send();
    await Promise.all([...running]);
  };
  Object.defineProperty(publisher, 'dropped', { get: () => dropped });
  return publisher;
}

function toWire(c: DeliveryStatusChange): DeliveryStatusChange {
  return {
    deliveryId: c.deliveryId,
    notificationId: c.notificationId,
    eventType: c.eventType,
    userId: c.userId,
    channel: c.channel,
    status: c.status,
    at: c.at,
  };
}

/** Parses a feed message; null for anything that is not a well-formed change. */
export function parseStatusChange(message: string): DeliveryStatusChange | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  const fields = ['deliveryId', 'notificationId', 'eventType', 'userId', 'channel', 'status', 'at'] as const;
  for (const f of fields) if (typeof v[f] !== 'string') return null;
  return toWire(v as unknown as DeliveryStatusChange);
}

export type StatusListener = (change: DeliveryStatusChange, raw: string) => void;

/**
 * One shared Redis subscription per process, fanned out to listeners. The connection is
 * opened with the first listener and kept until close(); ioredis re-subscribes after reconnects.
 */
export class StatusFeedSubscriber {
  private readonly listeners = new Set<StatusListener>();
  private connection: Redis | null = null;
  private ready: Promise<void> | null = null;

  constructor(private readonly createConnection: () => Redis, private readonly logger?: Logger) {}

  get size(): number {
    return this.listeners.size;
  }

  /** Adds a listener; resolves once the Redis subscription is active. Returns the unsubscribe function. */
  async subscribe(listener: StatusListener): Promise<() => void> {
    this.listeners.add(listener);
    const unsubscribe = () => {
      this.listeners.delete(listener);
    };
    try {
      await this.start();
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const connection = this.createConnection();
    this.connection = connection;
    connection.on('message', (channel: string, message: string) => {
      if (channel !== statusFeedChannel) return;
      const change = parseStatusChange(message);
      if (!change) return;
      // The wire form is re-serialised once and shared by every client.
      const raw = JSON.stringify(change);
      for (const listener of this.listeners) {
        try {
          listener(change, raw);
        } catch (error) {
          this.logger?.warn({ err: error }, 'status feed listener failed');
        }
      }
    });
    this.ready = connection.subscribe(statusFeedChannel).then(
      () => undefined,
      (error) => {
        this.ready = null;
        this.connection = null;
        connection.disconnect();
        throw error;
      },
    );
    return this.ready;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    const connection = this.connection;
    this.connection = null;
    this.ready = null;
    connection?.disconnect();
  }
}
