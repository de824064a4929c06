import type { Config } from './config.js';
import { createPool, type Pool } from './db/pool.js';
import { createPrisma, type PrismaClient } from './db/prisma.js';
import { EventBus } from './events/event-bus.js';
import { createLogger, type Logger } from './logger.js';
import { createRedis, type Redis } from './redis.js';

/** The connections a Herald process shares between its parts, created once at start-up. */
export interface AppContext {
  config: Config;
  logger: Logger;
  pool: Pool;
  prisma: PrismaClient;
  redis: Redis;
  bus: EventBus;
  close(): Promise<void>;
}

export function createAppContext(config: Config, logger: Logger = createLogger({ level: config.LOG_LEVEL })): AppContext {
  const pool = createPool(config.DATABASE_URL, config.PG_POOL_SIZE);
  const prisma = createPrisma(config.DATABASE_URL);
  // Publishing must fail fast while Redis is away (the sweeper covers it), never queue.
  const redis = createRedis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const subscribers: Redis[] = [];
  const bus = new EventBus({
    pool,
    prisma,
    publisher: redis,
    createSubscriber: () => {
      const subscriber = createRedis(config.REDIS_URL);
      subscribers.push(subscriber);
      // The bus closes its subscriber when the last handler leaves; close() then has one less to end.
      subscriber.once('end', () => {
        const at = subscribers.indexOf(subscriber);
        if (at >= 0) subscribers.splice(at, 1);
      });
      return subscriber;
    },
    logger,
    maxPayloadBytes: config.EVENT_MAX_PAYLOAD_BYTES,
  });
  return {
    config,
    logger,
    pool,
    prisma,
    redis,
    bus,
    async close() {
      await bus.close();
      for (const s of subscribers) s.disconnect();
      redis.disconnect();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
