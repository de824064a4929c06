import type { Pool } from '../db/pool.js';

export interface Summary {
  events: number;
  eventsPerSecond: number;
  deliveries: Record<string, number>;
}

/** Totals for the console: events stored and deliveries by status, with a rate since the last call. */
export function createSummarySampler(pool: Pool): () => Promise<Summary> {
  let last: { events: number; at: number } | null = null;
  return async () => {
    const [events, deliveries] = await Promise.all([
      pool.query<{ n: number }>('SELECT count(*) AS n FROM domain_events'),
      pool.query<{ status: string; n: number }>('SELECT status, count(*) AS n FROM notification_deliveries GROUP BY status'),
    ]);
    const total = events.rows[0]?.n ?? 0;
    const now = Date.now();
    const rate = last ? ((total - last.events) * 1_000) / Math.max(1, now - last.at) : 0;
    last = { events: total, at: now };
    return { events: total, eventsPerSecond: rate, deliveries: Object.fromEntries(deliveries.rows.map((r) => [r.status, r.n])) };
  };
}
