import type { Redis } from '../redis.js';

export type RateLimitCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

interface PendingKey {
  timeWindow: number;
  callbacks: RateLimitCallback[];
}

// INCRBY n is n INCRs in one atomic step; the window starts with the first of them.
const incrementScript = `
local current = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl
if current == tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
else
  ttl = redis.call('PTTL', KEYS[1])
end
return {current, ttl}`;

/** What defineCommand adds to the connection. */
interface IncrementCommand {
  heraldRateLimitIncrBy(key: string, timeWindowMs: number, count: number): Promise<[number, number]>;
}

/**
 * The API's rate-limit counts (services/api/rate-limit.ts), kept in Redis: every request of a
 * key arriving in one event-loop turn is counted with a single INCRBY. The counts are the ones a
 * per-request INCR gives (request i of n sees `total - n + i`), so limits stay exact and shared
 * by every instance, but a burst of concurrent requests costs one Redis command instead of one
 * each.
 */
export class CoalescingRedisStore {
  private pending = new Map<string, PendingKey>();
  private scheduled = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    if (!(redis as unknown as Partial<IncrementCommand>).heraldRateLimitIncrBy) {
      redis.defineCommand('heraldRateLimitIncrBy', { numberOfKeys: 1, lua: incrementScript });
    }
  }

  incr(key: string, callback: RateLimitCallback, timeWindow: number): void {
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { timeWindow, callbacks: [] };
      this.pending.set(key, entry);
    }
    entry.callbacks.push(callback);
    if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate, not nextTick: every request read from the sockets in this turn joins in.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    for (const [key, { timeWindow, callbacks }] of batch) {
      const count = callbacks.length;
      (this.redis as unknown as IncrementCommand).heraldRateLimitIncrBy(this.prefix + key, timeWindow, count).then(
        ([total, ttl]) => callbacks.forEach((callback, i) => callback(null, { current: total - count + 1 + i, ttl })),
        (error: Error) => callbacks.forEach((callback) => callback(error)),
      );
    }
  }
}
