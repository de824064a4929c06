// --compare-prefill N: max-rate throughput with N events already stored, against an empty
// table, measured so that the machine's own drift cancels out.
//
// This VM's speed wanders by 1.5-1.8x over tens of minutes (same-run baselines moved that much
// between two runs 40 minutes apart), so "empty table, then prefill, then the big table" compares
// two different machines. Instead the big table lives in a second database, a copy of the bench
// database's schema, and the windows alternate: a drift that is roughly linear over a pair
// cancels out of the pair's ratio, and the median of the pairs shrugs off one bad one. The pairs'
// orders follow the Thue-Morse sequence (A B, B A, B A, A B, ...), so that as many pairs run
// the prefilled window second as first and a drift within the run cancels out of the set, not
// only out of each pair. With A B, B A, A B two pairs of three ran it second (in three such runs
// on one VM the middle pair gave 1.00-1.05 and the other two 0.74-0.93).
import pg from 'pg';
import type { AppContext } from '../../lib/app-context.js';
import type { PipelineOptions } from './pipeline.js';
import { resetBenchDatabase, runPipeline } from './pipeline.js';
import { prefillEvents, type PrefillOptions } from './prefill.js';
import { median, ratio, round, type RssSampler } from './util.js';

/** The prefilled twin of a *_bench database URL: herald_bench → herald_prefilled_bench. */
export function prefilledDatabaseUrl(benchUrl: string): string {
  const url = new URL(benchUrl);
  const name = url.pathname.slice(1);
  url.pathname = `/${name.replace(/_bench$/, '')}_prefilled_bench`;
  return url.toString();
}

/** Runs `fn` on a connection to the server's maintenance database (CREATE and DROP DATABASE need one). */
async function withAdminClient<T>(benchUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(benchUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const databaseName = (url: string) => new URL(url).pathname.slice(1);

/**
 * Re-creates the twin from the bench database as a template, so it has exactly the migrated
 * schema. Runs before anything connects to the bench database (CREATE DATABASE … TEMPLATE needs
 * the template to have no sessions).
 */
export async function recreatePrefilledDatabase(benchUrl: string): Promise<string> {
  const twinUrl = prefilledDatabaseUrl(benchUrl);
  await withAdminClient(benchUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${databaseName(twinUrl)}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${databaseName(twinUrl)}" TEMPLATE "${databaseName(benchUrl)}"`);
  });
  return twinUrl;
}

export async function dropPrefilledDatabase(benchUrl: string): Promise<void> {
  await withAdminClient(benchUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${databaseName(prefilledDatabaseUrl(benchUrl))}" WITH (FORCE)`));
}

/** The n-th term of the Thue-Morse sequence: the parity of n's one bits (0 1 1 0 1 0 0 1 ...). */
function thueMorse(n: number): 0 | 1 {
  let bits = 0;
  for (let m = n; m > 0; m >>= 1) bits ^= m & 1;
  return bits as 0 | 1;
}

export interface PrefillComparisonOptions {
  pipeline: PipelineOptions;
  prefill: PrefillOptions;
  /** A-B pairs, ordered A B, B A, B A, A B, ... (balanced when a power of two). */
  pairs: number;
}

export async function comparePrefilled(
  empty: AppContext,
  prefilled: AppContext,
  o: PrefillComparisonOptions,
  rss: RssSampler,
  log: (line: string) => void,
) {
  await resetBenchDatabase(prefilled);
  const prefill = await prefillEvents(prefilled, o.prefill, log);
  const windows: { pair: number; table: 'empty' | 'prefilled'; eventsPerSec: number; deliveriesPerSec: number; walBytesPerEvent: number | null; fpiPerEvent: number | null; checkpoints: number }[] = [];
  const run = async (pair: number, table: 'empty' | 'prefilled') => {
    // The empty side is emptied before each of its windows; the prefilled side keeps what each
    // window adds (a few percent of N at most), as a live table would.
    if (table === 'empty') await resetBenchDatabase(empty);
    log(`prefill comparison: pair ${pair + 1}/${o.pairs}, ${table} table`);
    const result = await runPipeline(table === 'empty' ? empty : prefilled, { ...o.pipeline, maxOnly: true }, rss, log);
    const m = result.maxRate;
    windows.push({ pair, table, eventsPerSec: m.eventsPerSec ?? 0, deliveriesPerSec: m.deliveriesPerSec ?? 0, walBytesPerEvent: m.wal.bytesPerEvent, fpiPerEvent: m.wal.fpiPerEvent, checkpoints: m.wal.checkpoints });
  };
  for (let pair = 0; pair < o.pairs; pair++) {
    const order: ('empty' | 'prefilled')[] = thueMorse(pair) === 0 ? ['empty', 'prefilled'] : ['prefilled', 'empty'];
    for (const table of order) await run(pair, table);
  }
  const pairRatios = Array.from({ length: o.pairs }, (_, pair) => {
    const e = windows.find((w) => w.pair === pair && w.table === 'empty')!;
    const p = windows.find((w) => w.pair === pair && w.table === 'prefilled')!;
    return ratio(p.eventsPerSec, e.eventsPerSec)!;
  });
  const mean = (table: 'empty' | 'prefilled', key: 'eventsPerSec' | 'walBytesPerEvent' | 'fpiPerEvent' | 'checkpoints') => {
    const values = windows.filter((w) => w.table === table).map((w) => w[key] ?? 0);
    return values.reduce((a, b) => a + b, 0) / values.length;
  };
  const summary = {
    prefill,
    pairs: o.pairs,
    windowSeconds: o.pipeline.maxWindowMs / 1000,
    windows,
    pairRatios,
    medianRatio: round(median(pairRatios), 3),
    minRatio: round(Math.min(...pairRatios), 3),
    maxRatio: round(Math.max(...pairRatios), 3),
    emptyEventsPerSec: round(mean('empty', 'eventsPerSec'), 0),
    prefilledEventsPerSec: round(mean('prefilled', 'eventsPerSec'), 0),
    /** The windows' means against each other: a second view beside the median of the pairs. */
    ratioOfMeans: ratio(mean('prefilled', 'eventsPerSec'), mean('empty', 'eventsPerSec')),
    walBytesPerEvent: { empty: round(mean('empty', 'walBytesPerEvent'), 0), prefilled: round(mean('prefilled', 'walBytesPerEvent'), 0) },
    fpiPerEvent: { empty: round(mean('empty', 'fpiPerEvent'), 2), prefilled: round(mean('prefilled', 'fpiPerEvent'), 2) },
    checkpointsPerWindow: { empty: round(mean('empty', 'checkpoints'), 1), prefilled: round(mean('prefilled', 'checkpoints'), 1) },
  };
  log(`prefill comparison: pair ratios ${pairRatios.map((r) => r.toFixed(3)).join(', ')}; median ${summary.medianRatio}`);
  return summary;
}
