import type { Pool } from '../../lib/db/pool.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of an unsorted sample (sorted copy). */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Median of a sample, nulls left out; null when nothing is left. */
export function median(values: (number | null)[]): number | null {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round = (value: number | null | undefined, digits = 1): number | null =>
  value == null || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;

export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || b === 0 ? null : round(a / b, 3);

/** Samples this process's RSS (and heap) at a fixed interval; bounded to `maxSamples`. */
export class RssSampler {
  readonly samples: { t: number; rssMb: number; heapMb: number; heapCommittedMb: number; externalMb: number }[] = [];
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
    this.samples.push({ t: Date.now() - this.started, rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20, heapCommittedMb: m.heapTotal / 2 ** 20, externalMb: m.external / 2 ** 20 });
  }

  /**
   * min/max/last over samples [from, to); driftPct = last vs the first sample of that range.
   * tenthsDriftPct compares the medians of the first and last tenth of the range, so a single
   * sample taken just before or after a GC does not decide the figure; heap likewise. The
   * median of every tenth is kept too: a trend shows as tenths that keep rising, noise as
   * tenths that go up and down.
   */
  summary(from = 0, to = this.samples.length) {
    const s = this.samples.slice(from, to);
    if (s.length === 0) return null;
    const rss = s.map((x) => x.rssMb);
    const heap = s.map((x) => x.heapMb);
    const first = rss[0]!;
    const last = rss[rss.length - 1]!;
    // Fewer than ten samples make as many parts of one sample each, so no part is empty.
    const parts = Math.min(10, s.length);
    const medians = (xs: number[]) =>
      Array.from({ length: parts }, (_, i) => percentile(xs.slice(Math.floor((i * xs.length) / parts), Math.floor(((i + 1) * xs.length) / parts)), 50)!);
    const head = (xs: number[]) => medians(xs)[0]!;
    const tail = (xs: number[]) => medians(xs)[parts - 1]!;
    const tenths = (xs: number[]) => medians(xs).map((m) => round(m));
    return {
      samples: s.length,
      seconds: round((s[s.length - 1]!.t - s[0]!.t) / 1000),
      firstMb: round(first),
      minMb: round(Math.min(...rss)),
      maxMb: round(Math.max(...rss)),
      lastMb: round(last),
      driftPct: round(((last - first) / first) * 100, 2),
      firstTenthMb: round(head(rss)),
      lastTenthMb: round(tail(rss)),
      tenthsDriftPct: round(((tail(rss) - head(rss)) / head(rss)) * 100, 2),
      heapFirstMb: round(s[0]!.heapMb),
      heapLastMb: round(s[s.length - 1]!.heapMb),
      heapMaxMb: round(Math.max(...heap)),
      heapFirstTenthMb: round(head(heap)),
      heapLastTenthMb: round(tail(heap)),
      heapTenthsDriftPct: round(((tail(heap) - head(heap)) / head(heap)) * 100, 2),
      rssByTenthMb: tenths(rss),
      heapByTenthMb: tenths(heap),
      // What RSS holds besides the live heap: V8's committed heap and memory outside it
      // (Buffers, native allocations), so a rise in RSS can be told apart by its source.
      heapCommittedByTenthMb: tenths(s.map((x) => x.heapCommittedMb)),
      externalByTenthMb: tenths(s.map((x) => x.externalMb)),
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

export interface WalStats {
  /** pg_current_wal_insert_lsn() as a byte position: exact and current, unlike pg_stat_wal. */
  lsn: bigint;
  bytes: number;
  records: number;
  fpi: number;
  /** WAL writes and fsyncs issued so far (pg_stat_wal): every commit that wrote WAL waits for one sync, alone or grouped. */
  writes: number;
  syncs: number;
  /** Checkpoints started so far, requested (WAL reached max_wal_size, or CHECKPOINT) and timed. */
  checkpoints: { requested: number; timed: number };
  /** Rows written in this database and in all the others (pg_stat_database): how much of the WAL may be someone else's. */
  rowWrites: { here: number; elsewhere: number };
  /**
   * Databases other than this one with a statement running right now. A long statement's WAL
   * is in the WAL position at once but reaches pg_stat_wal and pg_stat_database only when it ends.
   */
  busyElsewhere: string[];
}

/**
 * The server's WAL counters (PG 14+). Cluster-wide: every database on the server counts.
 * pg_stat_wal is flushed by backends about once a second, so its records and full-page images
 * lag a little; the bytes come from the WAL insert position, which does not.
 */
export async function walStats(pool: Pool): Promise<WalStats> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ lsn: string; bytes: string; records: string; fpi: string; writes: string; syncs: string; req: string; timed: string; here: string | null; elsewhere: string | null; busy: string[] }>(
      `SELECT pg_current_wal_insert_lsn()::text AS lsn, wal_bytes::text AS bytes, wal_records::text AS records, wal_fpi::text AS fpi,
              wal_write::text AS writes, wal_sync::text AS syncs,
              (SELECT checkpoints_req FROM pg_stat_bgwriter)::text AS req, (SELECT checkpoints_timed FROM pg_stat_bgwriter)::text AS timed,
              (SELECT sum(tup_inserted + tup_updated + tup_deleted) FROM pg_stat_database WHERE datname = current_database())::text AS here,
              (SELECT sum(tup_inserted + tup_updated + tup_deleted) FROM pg_stat_database WHERE datname IS DISTINCT FROM current_database())::text AS elsewhere,
              ARRAY(SELECT DISTINCT datname::text FROM pg_stat_activity
                     WHERE state = 'active' AND datname IS NOT NULL AND datname <> current_database() AND pid <> pg_backend_pid()) AS busy
         FROM pg_stat_wal`,
    );
    const r = rows[0]!;
    const [hi, lo] = r.lsn.split('/') as [string, string];
    return {
      lsn: (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`),
      bytes: Number(r.bytes),
      records: Number(r.records),
      fpi: Number(r.fpi),
      writes: Number(r.writes),
      syncs: Number(r.syncs),
      checkpoints: { requested: Number(r.req), timed: Number(r.timed) },
      rowWrites: { here: Number(r.here ?? 0), elsewhere: Number(r.elsewhere ?? 0) },
      busyElsewhere: r.busy,
    };
  } finally {
    client.release();
  }
}

export function walDelta(before: WalStats, after: WalStats) {
  return {
    bytes: Number(after.lsn - before.lsn),
    /** pg_stat_wal's own byte count over the same interval (lags by up to a second at each end). */
    statBytes: after.bytes - before.bytes,
    records: after.records - before.records,
    fpi: after.fpi - before.fpi,
    writes: after.writes - before.writes,
    syncs: after.syncs - before.syncs,
    checkpointsRequested: after.checkpoints.requested - before.checkpoints.requested,
    checkpointsTimed: after.checkpoints.timed - before.checkpoints.timed,
    rowWritesHere: after.rowWrites.here - before.rowWrites.here,
    rowWritesElsewhere: after.rowWrites.elsewhere - before.rowWrites.elsewhere,
    busyElsewhere: [...new Set([...before.busyElsewhere, ...after.busyElsewhere])],
  };
}
