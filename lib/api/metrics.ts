import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one process. A registry per instance (not prom-client's global one),
 * so several servers in one process (tests) do not collide. The delivery counter is a hook:
 * whoever observes a delivery outcome in this process calls `recordDelivery`.
 */
export interface HeraldMetrics {
  registry: Registry;
  recordPublished(type: string, outcome: 'stored' | 'duplicate'): void;
  recordDelivery(channel: string, status: string): void;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(): HeraldMetrics {
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
    recordDelivery: (channel, status) => deliveries.inc({ channel, status }),
    observeRequest: (method, route, status, seconds) => requests.observe({ method, route, status: String(status) }, seconds),
  };
}
