import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../lib/api/http-errors.js';
import type { CoalescingRedisStore } from '../../lib/api/rate-limit-store.js';

/** Limits are per minute: an API key's `rate_limit_per_minute`, or the default. */
const windowMs = 60_000;

export interface RateLimitOptions {
  store: CoalescingRedisStore;
  /** Requests per minute for a key without a limit of its own. */
  defaultMax: number;
  /** Told when a request went through uncounted because the store failed (Redis away). */
  onStoreError?: (error: Error) => void;
}

/**
 * Per-API-key limits (429 with Retry-After past them; x-ratelimit-* headers on every keyed
 * response), counted in Redis so that every instance shares them. Runs before the body is
 * parsed, after authentication: invalid requests count too, requests without a key (health,
 * scrapes, docs) are never limited. While Redis is away requests are let through.
 *
 * A callback hook of its own rather than @fastify/rate-limit: the plugin's per-request path (four
 * awaits, a route-options object, a promise around the store) cost HTTP ingest 1-5 % of its
 * throughput and 2-7 % of its CPU per request against this hook with the same store (README,
 * Performance), and the store, where the counting is, was already ours.
 */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  const { store, defaultMax, onStoreError } = options;
  app.addHook('preParsing', (request, reply, payload, done) => {
    const key = request.apiKey;
    if (!key) {
      done(null, payload);
      return;
    }
    const max = key.rateLimitPerMinute ?? defaultMax;
    store.incr(
      key.id,
      (error, count) => {
        if (error || !count) {
          if (error) onStoreError?.(error);
          done(null, payload);
          return;
        }
        const resetSeconds = Math.max(0, Math.ceil(count.ttl / 1000));
        reply.header('x-ratelimit-limit', max);
        reply.header('x-ratelimit-remaining', Math.max(0, max - count.current));
        reply.header('x-ratelimit-reset', resetSeconds);
        if (count.current <= max) {
          done(null, payload);
          return;
        }
        const retryAfter = Math.max(1, resetSeconds);
        done(
          new HttpError('rate_limited', `Rate limit of ${max} requests per minute exceeded; retry in ${retryAfter} s`, undefined, {
            'retry-after': String(retryAfter),
          }),
        );
      },
      windowMs,
    );
  });
}
