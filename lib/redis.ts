import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

/**
 * Connections retry forever with a capped delay: Redis restarts are an expected fault,
 * and Postgres (not Redis) holds everything that must survive them.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    ...options,
  });
  redis.on('error', () => {});
  return redis;
}
