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

/** Adds n deliveries of one stats bucket (stats_delivery_category in the stats_rollup migration). */
function add(counts: StatusCounts, category: string, n: number): void {
  counts.total += n;
  if (category === 'sent') counts.sent += n;
  else if (category === 'failed') counts.failed += n;
  else if (category === 'dead_lettered') counts.deadLettered += n;
  else if (category === 'skipped') counts.skipped += n;
  else counts.pending += n;
}

function finish(counts: StatusCounts): StatusCounts {
  const finished = counts.sent + counts.failed + counts.deadLettered;
  counts.successRate = finished === 0 ? null : Math.round((counts.sent / finished) * 10_000) / 10_000;
  return counts;
}

const HOUR_MS = 3_600_000;

interface RollupRow {
  kind: 'delivery' | 'notification' | 'event';
  channel: string | null;
  event_type: string | null;
  hour: Date | null;
  category: string;
  n: number;
  /** GROUPING(channel, event_type, hour): which grouping set the row belongs to. */
  g: number;
}

/**
 * Statistics over the window from the hourly rollup (stats_hourly plus the deltas not yet
 * compacted, read in one statement so a concurrent compaction is seen whole or not at all).
 *
 * Buckets are whole UTC hours of creation time (storage time for events): the window starts
 * at the hour holding `now - window` and ends now, so it covers up to an hour more than asked
 * for and always includes the current hour whole (rows stamped later this hour included).
 * `window.from` reports that aligned start, `window.seconds` the window asked for. A 15m
 * window is therefore the current hour, plus the previous one during an hour's first 15 minutes.
 */
export async function deliveryStats(pool: Pool, windowSeconds: number, now = new Date()): Promise<DeliveryStats> {
  const from = new Date(Math.floor((now.getTime() - windowSeconds * 1000) / HOUR_MS) * HOUR_MS);
  const { rows } = await pool.query<RollupRow>(
    `WITH r AS (
       SELECT hour, kind, channel, event_type, category, n FROM stats_hourly WHERE hour >= $1 AND hour < $2
       UNION ALL
       SELECT hour, kind, channel, event_type, category, n FROM stats_hourly_deltas WHERE hour >= $1 AND hour < $2)
     SELECT kind, channel, event_type, hour, category, sum(n)::bigint AS n, GROUPING(channel, event_type, hour) AS g
       FROM r
      GROUP BY GROUPING SETS ((kind, category), (kind, channel, category), (kind, event_type, category), (kind, hour, category))
     HAVING sum(n) <> 0`,
    [from, now],
  );
  let events = 0;
  let notifications = 0;
  const totals = empty();
  const byChannel: Record<string, StatusCounts> = {};
  const byEventType: Record<string, StatusCounts> = {};
  const byHour = new Map<string, StatusCounts>();
  for (const row of rows) {
    if (row.kind === 'event') {
      if (row.g === 0b111) events += row.n;
    } else if (row.kind === 'notification') {
      if (row.g === 0b111) notifications += row.n;
    } else if (row.g === 0b111) add(totals, row.category, row.n);
    // GROUPING bits (channel, event_type, hour): 0b011 = by channel, 0b101 = by type, 0b110 = by hour.
    else if (row.g === 0b011 && row.channel) add((byChannel[row.channel] ??= empty()), row.category, row.n);
    else if (row.g === 0b101 && row.event_type) add((byEventType[row.event_type] ??= empty()), row.category, row.n);
    else if (row.g === 0b110 && row.hour) {
      const key = row.hour.toISOString();
      if (!byHour.has(key)) byHour.set(key, empty());
      add(byHour.get(key)!, row.category, row.n);
    }
  }
  for (const channel of ['push', 'email', 'sms']) byChannel[channel] ??= empty();
  for (const c of Object.values(byChannel)) finish(c);
  for (const c of Object.values(byEventType)) finish(c);
  return {
    window: { from: from.toISOString(), to: now.toISOString(), seconds: windowSeconds },
    events,
    notifications,
    deliveries: finish(totals),
    byChannel,
    byEventType,
    byHour: [...byHour.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([hour, c]) => ({ hour, ...finish(c) })),
  };
}
