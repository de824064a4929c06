import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Pool } from '../db/pool.js';

/**
 * Prometheus metrics of one process. A registry per instance (not prom-client's global one),
 * so several servers in one process (tests) do not collide. The delivery counter is a hook:
 * whoever observes a delivery outcome in this process calls `recordDelivery`.
 */
export interface HeraldMetrics {
  registry: Registry;
  recordPublished(type: string, outcome: 'stored' | 'duplicate'): void;
  /** One send attempt's outcome; `seconds` is the provider call's latency when there was one. */
  recordDelivery(channel: string, status: string, seconds?: number): void;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /**
   * Adds the retry queue's depth by job state, read from Redis at each scrape. A method rather
   * than a source: the queue is the notifier's own, and the notifier is built after the
   * metrics (its outcomes feed them). Once per registry.
   */
  watchRetryQueue(queue: Pick<Queue, 'getJobCounts'>): void;
}

export interface MetricsSources {
  /** For gauges read at scrape time: dead letters awaiting an operator, deliveries in flight. */
  pool?: Pool;
}

export function createMetrics(sources: MetricsSources = {}): HeraldMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'herald_' });
  const published = new Counter({
    name: 'herald_events_published_total',
    help: 'Events accepted by this process, by type and outcome (stored or duplicate)',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'herald_deliveries_total',
    help: 'Delivery outcomes observed by this process, by channel and status',
    labelNames: ['channel', 'status'] as const,
    registers: [registry],
  });
  const attemptLatency = new Histogram({
    name: 'herald_delivery_attempt_duration_seconds',
    help: 'Provider call latency per attempt, by channel and outcome',
    labelNames: ['channel', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  if (sources.pool) {
    const pool = sources.pool;
    new Gauge({
      name: 'herald_dead_letters',
      help: 'Dead-lettered deliveries neither retried nor discarded',
      registers: [registry],
      async collect() {
        const { rows } = await pool.query<{ n: number }>('SELECT count(*) AS n FROM dead_letters WHERE retried_at IS NULL AND discarded_at IS NULL');
        this.set(rows[0]?.n ?? 0);
      },
    });
    new Gauge({
      name: 'herald_deliveries_in_flight',
      help: 'Deliveries not yet terminal, by status (uses the in-flight partial index)',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const { rows } = await pool.query<{ status: string; n: number }>(
          `SELECT status, count(*) AS n FROM notification_deliveries WHERE in_flight GROUP BY status`,
        );
        this.reset();
        for (const status of ['PENDING', 'SENDING', 'RETRYING', 'DEFERRED']) this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
      },
    });
  }
  const requests = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
    recordPublished: (type, outcome) => published.inc({ type, outcome }),
    recordDelivery: (channel, status, seconds) => {
      deliveries.inc({ channel, status });
      if (seconds !== undefined && seconds > 0) attemptLatency.observe({ channel, status }, seconds);
    },
    observeRequest: (method, route, status, seconds) => requests.observe({ method, route, status: String(status) }, seconds),
    watchRetryQueue: (queue) => {
      new Gauge({
        name: 'herald_retry_queue_jobs',
        help: 'Jobs in the BullMQ retry queue, by state',
        labelNames: ['state'] as const,
        registers: [registry],
        async collect() {
          const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed');
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        },
      });
    },
  };
}
