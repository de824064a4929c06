import type { Pool } from '../../lib/db/pool.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of an unsorted sample (sorted copy). */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (value: number | null | undefined, digits = 1): number | null =>
  value == null || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;

export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || b === 0 ? null : round(a / b, 3);

/** Samples this process's RSS (and heap) at a fixed interval; bounded to `maxSamples`. */
export class RssSampler {
  readonly samples: { t: number; rssMb: number; heapMb: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly started = Date.now();

  constructor(private readonly intervalMs = 500, private readonly maxSamples = 10_000) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  mark(): number {
    return this.samples.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }

  private sample(): void {
    if (this.samples.length >= this.maxSamples) return;
    const m = process.memoryUsage();
    this.samples.push({ t: Date.now() - this.started, rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 });
  }

  /** min/max/last over samples [from, to); drift = last vs the first sample of that range. */
  summary(from = 0, to = this.samples.length) {
    const s = this.samples.slice(from, to);
    if (s.length === 0) return null;
    const rss = s.map((x) => x.rssMb);
    const first = rss[0]!;
    const last = rss[rss.length - 1]!;
    return {
      samples: s.length,
      firstMb: round(first),
      minMb: round(Math.min(...rss)),
      maxMb: round(Math.max(...rss)),
      lastMb: round(last),
      driftPct: round(((last - first) / first) * 100, 2),
      heapFirstMb: round(s[0]!.heapMb),
      heapLastMb: round(s[s.length - 1]!.heapMb),
    };
  }
}

export type TableStats = Record<string, { ins: number; upd: number; del: number; hotUpd: number }>;

/** pg_stat_user_tables of the connected database. Counters are flushed by backends about once a second. */
export async function tableStats(pool: Pool): Promise<TableStats> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ relname: string; ins: number; upd: number; del: number; hot: number }>(
      `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del, n_tup_hot_upd AS hot FROM pg_stat_user_tables`,
    );
    return Object.fromEntries(rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del), hotUpd: Number(r.hot) }]));
  } finally {
    client.release();
  }
}

export function statsDelta(before: TableStats, after: TableStats) {
  const perTable: Record<string, { ins: number; upd: number }> = {};
  let ins = 0;
  let upd = 0;
  for (const [table, a] of Object.entries(after)) {
    const b = before[table] ?? { ins: 0, upd: 0, del: 0, hotUpd: 0 };
    const d = { ins: a.ins - b.ins, upd: a.upd - b.upd };
    if (d.ins === 0 && d.upd === 0) continue;
    if (table.startsWith('bench_')) continue;
    perTable[table] = d;
    ins += d.ins;
    upd += d.upd;
  }
  return { ins, upd, perTable };
}

/** Waits until pg_stat counters stop moving (backends flush them at most once a second). */
export async function settledTableStats(pool: Pool, maxWaitMs = 3_000): Promise<TableStats> {
  const deadline = Date.now() + maxWaitMs;
  let previous = await tableStats(pool);
  for (;;) {
    await sleep(600);
    const current = await tableStats(pool);
    const d = statsDelta(previous, current);
    if ((d.ins === 0 && d.upd === 0) || Date.now() > deadline) return current;
    previous = current;
  }
}
