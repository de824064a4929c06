import { randomUUID } from 'node:crypto';
import type { Redis } from '../redis.js';

const release = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Runs `task` only if this instance wins the tick's lock, so that with several schedulers
 * each cron tick runs once. The lock expires on its own if the holder dies mid-task.
 */
export async function runLocked(redis: Redis, name: string, ttlMs: number, task: () => Promise<void>): Promise<boolean> {
  const key = `herald:lock:${name}`;
  const token = randomUUID();
  const acquired = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (acquired !== 'OK') return false;
  try {
    await task();
  } finally {
    await redis.eval(release, 1, key, token).catch(() => {});
  }
  return true;
}
