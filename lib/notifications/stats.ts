import type { Pool } from '../db/pool.js';

export interface StatusCounts {
  total: number;
  sent: number;
  failed: number;
  pending: number;
  skipped: number;
  deadLettered: number;
  /** sent / (sent + failed + deadLettered); null when nothing has finished yet. */
  successRate: number | null;
}

export interface DeliveryStats {
  window: { from: string; to: string; seconds: number };
  events: number;
  notifications: number;
  deliveries: StatusCounts;
  byChannel: Record<string, StatusCounts>;
  byEventType: Record<string, StatusCounts>;
  byHour: (StatusCounts & { hour: string })[];
}

const windowUnits: Record<string, number> = { m: 60, h: 3_600, d: 86_400 };

/** "15m", "24h", "7d" → seconds (at most 31 days). Returns null for anything else. */
export function parseWindow(window: string): number | null {
  const match = /^(\d{1,4})([mhd])$/.exec(window);
  if (!match) return null;
  const seconds = Number(match[1]) * windowUnits[match[2]!]!;
  return seconds > 0 && seconds <= 31 * 86_400 ? seconds : null;
}

function empty(): StatusCounts {
  return { total: 0, sent: 0, failed: 0, pending: 0, skipped: 0, deadLettered: 0, successRate: null };
}

function add(counts: StatusCounts, status: string, n: number): void {
  counts.total += n;
  if (status === 'SENT' || status === 'DELIVERED') counts.sent += n;
  else if (status === 'FAILED') counts.failed += n;
  else if (status === 'DEAD_LETTERED') counts.deadLettered += n;
  else if (status === 'SKIPPED') counts.skipped += n;
  else counts.pending += n; // PENDING, SENDING, RETRYING, DEFERRED
}

function finish(counts: StatusCounts): StatusCounts {
  const finished = counts.sent + counts.failed + counts.deadLettered;
  counts.successRate = finished === 0 ? null : Math.round((counts.sent / finished) * 10_000) / 10_000;
  return counts;
}

/**
 * Delivery statistics over deliveries created in the window. One range scan of
 * notification_deliveries(created_at) grouped three ways with GROUPING SETS.
 */
export async function deliveryStats(pool: Pool, windowSeconds: number, now = new Date()): Promise<DeliveryStats> {
  const from = new Date(now.getTime() - windowSeconds * 1000);
  const [grouped, events, notifications] = await Promise.all([
    pool.query<{ channel: string | null; event_type: string | null; hour: Date | null; status: string; n: number; g: number }>(
      `SELECT channel, event_type, date_trunc('hour', created_at) AS hour, status, count(*) AS n,
              GROUPING(channel, event_type, date_trunc('hour', created_at)) AS g
         FROM notification_deliveries
        WHERE created_at >= $1 AND created_at < $2
        GROUP BY GROUPING SETS ((channel, status), (event_type, status), (date_trunc('hour', created_at), status))`,
      [from, now],
    ),
    pool.query<{ n: number }>(`SELECT count(*) AS n FROM domain_events WHERE stored_at >= $1 AND stored_at < $2`, [from, now]),
    pool.query<{ n: number }>(`SELECT count(*) AS n FROM notifications WHERE created_at >= $1 AND created_at < $2`, [from, now]),
  ]);
  const totals = empty();
  const byChannel: Record<string, StatusCounts> = {};
  const byEventType: Record<string, StatusCounts> = {};
  const byHour = new Map<string, StatusCounts>();
  for (const row of grouped.rows) {
    // GROUPING bits (channel, event_type, hour): 0b011 = by channel, 0b101 = by type, 0b110 = by hour.
    if (row.g === 0b011 && row.channel) {
      add((byChannel[row.channel] ??= empty()), row.status, row.n);
      add(totals, row.status, row.n);
    } else if (row.g === 0b101 && row.event_type) {
      add((byEventType[row.event_type] ??= empty()), row.status, row.n);
    } else if (row.g === 0b110 && row.hour) {
      const key = row.hour.toISOString();
      if (!byHour.has(key)) byHour.set(key, empty());
      add(byHour.get(key)!, row.status, row.n);
    }
  }
  for (const channel of ['push', 'email', 'sms']) byChannel[channel] ??= empty();
  for (const c of Object.values(byChannel)) finish(c);
  for (const c of Object.values(byEventType)) finish(c);
  return {
    window: { from: from.toISOString(), to: now.toISOString(), seconds: windowSeconds },
    events: events.rows[0]?.n ?? 0,
    notifications: notifications.rows[0]?.n ?? 0,
    deliveries: finish(totals),
    byChannel,
    byEventType,
    byHour: [...byHour.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([hour, c]) => ({ hour, ...finish(c) })),
  };
}
