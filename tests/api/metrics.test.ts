import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { createMetrics } from '../../lib/api/metrics.js';
import { testContext } from '../support/harness.js';

let ctx: AppContext;
beforeAll(() => {
  ctx = testContext();
});
afterAll(() => ctx.close());

describe('metrics', () => {
  it('exposes delivery outcomes, attempt latency and the in-flight and dead-letter gauges', async () => {
    const metrics = createMetrics({ pool: ctx.pool });
    metrics.recordDelivery('sms', 'SENT', 0.042);
    metrics.recordDelivery('sms', 'RETRYING', 1.5);
    metrics.recordPublished('transaction.completed', 'stored');
    const text = await metrics.registry.metrics();
    expect(text).toContain('herald_deliveries_total{channel="sms",status="SENT"} 1');
    expect(text).toContain('herald_delivery_attempt_duration_seconds_bucket{le="0.05",channel="sms",status="SENT"} 1');
    expect(text).toContain('herald_events_published_total{type="transaction.completed",outcome="stored"} 1');
    const dead = Number(/herald_dead_letters (\d+)/.exec(text)?.[1]);
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM dead_letters WHERE retried_at IS NULL AND discarded_at IS NULL');
    expect(dead).toBe(rows[0].n);
    expect(text).toMatch(/herald_deliveries_in_flight\{status="PENDING"\} \d+/);
  });

  it('reads the retry queue\'s depth by job state from Redis at each scrape', async () => {
    // A queue of its own, so the counts are this test's whatever else runs against Redis.
    const queue = new Queue(`herald-metrics-test-${randomUUID()}`, { connection: { url: ctx.config.REDIS_URL, maxRetriesPerRequest: null } });
    try {
      const metrics = createMetrics();
      metrics.watchRetryQueue(queue);
      await queue.add('retry', { n: 1 }, { delay: 3_600_000 });
      await queue.add('retry', { n: 2 }, { delay: 3_600_000 });
      await queue.add('retry', { n: 3 });
      let text = await metrics.registry.metrics();
      expect(text).toContain('herald_retry_queue_jobs{state="delayed"} 2');
      expect(text).toContain('herald_retry_queue_jobs{state="waiting"} 1');
      expect(text).toContain('herald_retry_queue_jobs{state="active"} 0');
      expect(text).toContain('herald_retry_queue_jobs{state="failed"} 0');
      await queue.drain(true);
      text = await metrics.registry.metrics();
      expect(text).toContain('herald_retry_queue_jobs{state="delayed"} 0');
      expect(text).toContain('herald_retry_queue_jobs{state="waiting"} 0');
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe('request logging', () => {
  it('never writes an API key passed in the query string', async () => {
    const { redactUrl } = await import('../../lib/logger.js');
    expect(redactUrl('/v1/stream?channel=sms&key=hrld_secret123&status=SENT')).toBe('/v1/stream?channel=sms&key=[redacted]&status=SENT');
    expect(redactUrl('/v1/stream?key=hrld_secret123')).toBe('/v1/stream?key=[redacted]');
  });
});
