import type { Pool } from '../db/pool.js';
import { deliveryStats, type StatusCounts } from './stats.js';

export interface Summary {
  /** Events stored in the last 24 hours (hour-aligned, from the stats rollup). */
  events: number;
  /** Events stored over the last ten seconds, per second. */
  eventsPerSecond: number;
  deliveries: Omit<StatusCounts, 'total' | 'successRate'>;
}

const rateWindowSeconds = 10;

/**
 * Numbers for the console line of `npm start`. Both reads stay cheap however large the tables
 * grow: the totals come from the hourly rollup, the rate from a short range of the stored_at index.
 */
export function createSummarySampler(pool: Pool): () => Promise<Summary> {
  return async () => {
    const [stats, recent] = await Promise.all([
      deliveryStats(pool, 86_400),
      pool.query<{ n: number }>(`SELECT count(*) AS n FROM domain_events WHERE stored_at > now() - make_interval(secs => $1)`, [rateWindowSeconds]),
    ]);
    const { sent, failed, pending, skipped, deadLettered } = stats.deliveries;
    return { events: stats.events, eventsPerSecond: (recent.rows[0]?.n ?? 0) / rateWindowSeconds, deliveries: { sent, failed, pending, skipped, deadLettered } };
  };
}
