// `npm run bench [-- --quick] [-- --latency 20]`: Herald's throughput, latency, memory and
// Postgres write cost, each next to a raw baseline measured in the same run on the same box.
// Uses its own database (herald_bench, emptied at start) and its own Redis keys (herald-bench*).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAppContext } from '../lib/app-context.js';
import { loadConfig } from '../lib/config.js';
import { bullmqNoop, pgInsert, redisPubSub } from './bench/baselines.js';
import { runBacklog } from './bench/backlog.js';
import { runHttp } from './bench/http.js';
import { prefillEvents } from './bench/prefill.js';
import { comparePrefilled, dropPrefilledDatabase, recreatePrefilledDatabase } from './bench/prefill-comparison.js';
import { runStats } from './bench/stats.js';
import { resetBenchDatabase, runPipeline } from './bench/pipeline.js';
import { median, ratio, round, RssSampler } from './bench/util.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    latency: { type: 'string', default: '0' },
    duration: { type: 'string' },
    rate: { type: 'string', default: '500' },
    only: { type: 'string', default: 'baselines,pipeline,http' },
    connections: { type: 'string', default: '50' },
    prefill: { type: 'string', default: '0' },
    'compare-prefill': { type: 'string', default: '0' },
    pairs: { type: 'string', default: '4' },
    backlog: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`npm run bench -- [--quick] [--latency MS] [--duration S] [--rate N] [--only baselines,pipeline,http,stats,backlog] [--connections N]
                  [--prefill N | --compare-prefill N [--pairs P]] [--backlog N] [--keep]
  --quick        every phase shortened so the run ends within a minute
  --latency MS   sandbox provider latency (default 0)
  --duration S   max-rate measured window (default 60, quick 8); --duration 600 for the 10-minute RSS check
                 (the memory figures start at the end of the warm-up)
  --rate N       fixed rate for the latency phase (default 500 events/s)
  --only LIST    phases to run (default baselines,pipeline,http). Opt-in:
                   stats    GET /v1/stats over 1M notifications (100k with --quick)
                   backlog  N unprocessed events stored with no notifier running, then a notifier
                            whose sweeper alone finds them: events/s processed, deliveries/s
  --prefill N    after the baselines, before the other phases, load N processed events into domain_events
                 (then VACUUM ANALYZE, CHECKPOINT). To compare against an empty table, either run the bench
                 twice with the same options, once without --prefill, or use --compare-prefill
  --compare-prefill N
                 max-rate events/s with N events stored against an empty table (issue target: ratio ≥ 0.9
                 at 5M). The N events go into a twin database (<name>_prefilled_bench, re-created from the
                 bench database and dropped at the end); then P pairs of max-rate windows (--duration, default
                 30 here) alternate between the empty and the full table, A B, B A, B A, A B, ..., so that the
                 machine's drift cancels out; prints each pair's ratio, their median and the ratio of the
                 means. Replaces the pipeline phase.
  --pairs P      pairs of windows for --compare-prefill (default 4; ordered A B, B A, B A, A B)
  --backlog N    events in the backlog phase (default 100000, quick 10000)
  --keep         leave the bench database as the run left it (default: emptied at the end)
Environment: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/herald_bench), REDIS_URL (loopback only).
Examples: npm run bench -- --only pipeline --compare-prefill 5000000
          npm run bench -- --only pipeline --duration 600
          npm run bench -- --only backlog`);
  process.exit(0);
}

const quick = args.quick!;
const phases = new Set(args.only!.split(',').map((s) => s.trim()).filter(Boolean));
const unknownPhases = [...phases].filter((ph) => !['baselines', 'pipeline', 'http', 'stats', 'backlog'].includes(ph));
if (unknownPhases.length > 0) throw new Error(`--only: unknown phase ${unknownPhases.join(', ')} (phases: baselines, pipeline, http, stats, backlog)`);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/herald_bench';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
for (const [what, url] of [['database', databaseUrl], ['redis', redisUrl]] as const) {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error(`the bench only talks to loopback; ${what} host is ${host}`);
}
if (!new URL(databaseUrl).pathname.endsWith('_bench')) throw new Error('BENCH_DATABASE_URL must name a *_bench database (the bench empties it)');

const count = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${value}"`);
  return n;
};
const prefill = count('prefill', args.prefill);
const comparePrefill = count('compare-prefill', args['compare-prefill']);
if (prefill > 0 && comparePrefill > 0) throw new Error('--prefill and --compare-prefill exclude each other');
if (comparePrefill > 0 && !phases.has('pipeline')) throw new Error('--compare-prefill needs the pipeline phase');

const options = {
  quick,
  providerLatencyMs: Number(args.latency),
  maxWindowSec: Number(args.duration ?? (quick ? 8 : comparePrefill > 0 ? 30 : 60)),
  fixedRate: Number(args.rate),
  phases: [...phases],
  prefill,
  comparePrefill,
  comparePairs: comparePrefill > 0 ? count('pairs', args.pairs) : null,
  backlogEvents: phases.has('backlog') ? count('backlog', args.backlog ?? (quick ? '10000' : '100000')) : null,
  keep: args.keep!,
  database: databaseUrl.replace(/\/\/[^@]*@/, '//'),
  redis: redisUrl,
};
const budgets = quick
  ? { bullmq: { count: 30_000, maxMs: 4_000 }, pubsub: { count: 300_000, maxMs: 3_000 }, pg: { count: 100_000, maxMs: 3_000 } }
  : { bullmq: { count: 300_000, maxMs: 20_000 }, pubsub: { count: 2_000_000, maxMs: 10_000 }, pg: { count: 1_000_000, maxMs: 10_000 } };

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const started = Date.now();
const rss = new RssSampler(quick ? 250 : 500).start();

const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent' });
// Before anything connects to the bench database: the twin is created with it as the template.
const prefilledUrl = comparePrefill > 0 ? await recreatePrefilledDatabase(databaseUrl) : null;
const ctx = createAppContext(config);
const prefilledCtx = prefilledUrl ? createAppContext({ ...config, DATABASE_URL: prefilledUrl }) : null;
const result: Record<string, unknown> = {
  startedAt: new Date(started).toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    /** The runtime flags (scripts/node-service.sh sets the service's; a caller's own come after). */
    nodeOptions: process.env.NODE_OPTIONS ?? '',
    /** Flags given to node itself (V8 flags that NODE_OPTIONS refuses, the TypeScript loader). */
    execArgv: process.execArgv,
    platform: `${os.platform()} ${os.release()}`,
  },
  options: { ...options, budgets, config: { PG_POOL_SIZE: config.PG_POOL_SIZE, DELIVERY_CONCURRENCY: config.DELIVERY_CONCURRENCY, SWEEPER_BATCH_SIZE: config.SWEEPER_BATCH_SIZE, SWEEPER_GRACE_MS: config.SWEEPER_GRACE_MS } },
};

// A stored transaction.completed broadcast is about this long; the pub/sub baseline sends messages of that size.
const sampleBroadcast = JSON.stringify({
  id: '00000000-0000-4000-8000-000000000000', type: 'transaction.completed', timestamp: new Date().toISOString(),
  aggregateId: 't-00000000-0000-4000-8000-000000000000', aggregateType: 'transaction',
  payload: { transactionId: 't-00000000-0000-4000-8000-000000000000', accountNumber: '100000000000', amount: '1250.00', currency: 'MWK', direction: 'debit', description: 'Bench transfer' },
  metadata: { userId: 'bench-u-0-00000000', correlationId: 'bench-00000000-max', source: 'herald.bench' }, storedAt: new Date().toISOString(),
});

try {
  await resetBenchDatabase(ctx);
  // The server settings that move write-heavy figures most (checkpoint spacing, WAL size per
  // full-page image): they belong to the server, so every result says what they were.
  const settings = await ctx.pool.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM pg_settings
      WHERE name IN ('server_version', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'wal_compression', 'synchronous_commit', 'autovacuum')`,
  );
  result.postgres = Object.fromEntries(settings.rows.map((row) => [row.name, row.setting]));

  if (phases.has('baselines')) {
    log('baseline: BullMQ no-op jobs');
    const bullmq = await bullmqNoop(redisUrl, budgets.bullmq);
    log(`baseline: BullMQ ${bullmq.jobsPerSec} jobs/s; Redis pub/sub`);
    const pubsub = await redisPubSub(redisUrl, budgets.pubsub, sampleBroadcast.length);
    log(`baseline: pub/sub ${pubsub.messagesPerSec} msgs/s; Postgres 500-row INSERT`);
    const insert = await pgInsert(databaseUrl, budgets.pg);
    log(`baseline: INSERT ${insert.rowsPerSec} rows/s`);
    result.baselines = { bullmq, pubsub, pgInsert: insert };
  }

  const prefillOptions = { users: 100_000, days: 30, chunk: 250_000 };
  if (prefill > 0) result.prefill = await prefillEvents(ctx, { ...prefillOptions, events: prefill }, log);

  if (phases.has('pipeline')) {
    const pipelineOptions = {
      latencyMs: options.providerLatencyMs,
      customers: 500,
      warmupMs: quick ? 2_000 : 10_000,
      maxWindowMs: options.maxWindowSec * 1000,
      backlogCap: 2_000,
      publishers: 64,
      fixedRate: options.fixedRate,
      fixedMs: quick ? 6_000 : 30_000,
      drainMs: quick ? 6_000 : 30_000,
      concurrency: config.DELIVERY_CONCURRENCY,
    };
    if (prefilledCtx) {
      result.prefillComparison = await comparePrefilled(
        ctx,
        prefilledCtx,
        { pipeline: pipelineOptions, prefill: { ...prefillOptions, events: comparePrefill, buildIndexesAfterLoad: true }, pairs: options.comparePairs! },
        rss,
        log,
      );
    } else {
      result.pipeline = await runPipeline(ctx, pipelineOptions, rss, log);
    }
  }

  if (phases.has('backlog')) {
    result.backlog = await runBacklog(
      ctx,
      { events: options.backlogEvents!, customers: 500, latencyMs: options.providerLatencyMs, concurrency: config.DELIVERY_CONCURRENCY, timeoutMs: 120_000 + options.backlogEvents! * 5 },
      log,
    );
  }

  if (phases.has('stats')) {
    // Opt-in (--only ...,stats): loading a million notifications takes minutes.
    result.stats = await runStats(ctx, { notifications: quick ? 100_000 : 1_000_000, requests: quick ? 20 : 50 }, log);
  }

  if (phases.has('http')) {
    result.http = await runHttp(ctx, { connections: Number(args.connections), durationSec: quick ? 2 : 5, warmupSec: quick ? 1 : 2, pairs: quick ? 1 : 3 }, log);
  }
} finally {
  rss.stop();
  // Leave the bench database small for the next run (it is emptied at start anyway), unless --keep.
  if (!options.keep) await resetBenchDatabase(ctx).catch(() => {});
  else log('--keep: the bench database is left as the run left it');
  await ctx.close();
  if (prefilledCtx) {
    await prefilledCtx.close();
    if (!options.keep) await dropPrefilledDatabase(databaseUrl).catch(() => {});
  }
}

// ---- ratios, table, file -------------------------------------------------------------------
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const b = (result.baselines ?? {}) as Any;
const p = (result.pipeline ?? {}) as Any;
const h = (result.http ?? {}) as Any;
const pc = (result.prefillComparison ?? null) as Any | null;
const pre = (result.prefill ?? pc?.prefill ?? null) as Any | null;
const bl = (result.backlog ?? null) as Any | null;
result.ratios = {
  deliveriesPerSec_vs_bullmqJobsPerSec: ratio(p.maxRate?.deliveriesPerSec, b.bullmq?.jobsPerSec),
  eventsPerSec_vs_pubsubMsgsPerSec: ratio(p.maxRate?.eventsPerSec, b.pubsub?.messagesPerSec),
  eventRowsPerSec_vs_rawInsertRowsPerSec: ratio(p.maxRate?.pgRowsPerSec, b.pgInsert?.rowsPerSec),
  httpReqPerSec_vs_bareFastify: h.medianRatio ?? null,
  httpCpuPerRequest_vs_bareFastify: ratio(h.herald?.cpuUsPerRequest, h.bare?.cpuUsPerRequest),
  prefilledEventsPerSec_vs_emptyTableEventsPerSec: pc?.medianRatio ?? null,
};
result.memory = { whole: rss.summary(), pipeline: p.memory ?? null };
result.durationSec = round((Date.now() - started) / 1000, 1);

const rows: [string, string, string, string][] = [];
const fmt = (v: unknown, unit = '') => (v == null ? '—' : `${typeof v === 'number' ? v.toLocaleString('en-US') : String(v)}${unit}`);
const r = result.ratios as Any;
if (pre) rows.push(['domain_events rows loaded before the pipeline', fmt(pre.rowsInTable), `${fmt(pre.rowsPerSec)} rows/s load`, '']);
if (pc) {
  rows.push([
    `events/s (max): empty table → ${fmt(pre?.events)} stored, ${pc.pairs} alternating pairs of ${pc.windowSeconds} s`,
    `${fmt(pc.emptyEventsPerSec)} → ${fmt(pc.prefilledEventsPerSec)} (means; ratio of means ${fmt(pc.ratioOfMeans)})`,
    `pair ratios ${pc.pairRatios.map((x: number) => x.toFixed(2)).join(', ')}; target median ≥ 0.9`,
    fmt(pc.medianRatio),
  ]);
  rows.push(['WAL per event, empty → prefilled (mean of windows)', `${fmt(pc.walBytesPerEvent.empty)} → ${fmt(pc.walBytesPerEvent.prefilled)} B; FPI ${fmt(pc.fpiPerEvent.empty)} → ${fmt(pc.fpiPerEvent.prefilled)}; checkpoints per window ${fmt(pc.checkpointsPerWindow.empty)} → ${fmt(pc.checkpointsPerWindow.prefilled)}`, '', '']);
}
if (p.maxRate) {
  rows.push(['events/s (max, all 3 deliveries SENT)', fmt(p.maxRate.eventsPerSec), `pub/sub ${fmt(b.pubsub?.messagesPerSec)} msg/s`, fmt(r.eventsPerSec_vs_pubsubMsgsPerSec)]);
  rows.push(['deliveries/s (max)', fmt(p.maxRate.deliveriesPerSec), `BullMQ ${fmt(b.bullmq?.jobsPerSec)} jobs/s`, fmt(r.deliveriesPerSec_vs_bullmqJobsPerSec)]);
  rows.push(['Postgres rows/s (max)', fmt(p.maxRate.pgRowsPerSec), `INSERT ${fmt(b.pgInsert?.rowsPerSec)} rows/s`, fmt(r.eventRowsPerSec_vs_rawInsertRowsPerSec)]);
  const slices: number[] = p.maxRate.deliveriesPerSecBy5s ?? [];
  if (slices.length > 0) rows.push(['deliveries/s by 5-s slice (min / median / max)', `${fmt(Math.min(...slices))} / ${fmt(median(slices))} / ${fmt(Math.max(...slices))}`, `${slices.length} slices`, '']);
  rows.push(['publish calls/s (max window)', fmt(p.maxRate.publishedPerSec), '', '']);
  const gcp = p.maxRate.gcPauses;
  if (gcp) rows.push(['GC pauses, max window (ms per s; minor, major)', fmt(gcp.msPerSec), Object.entries(gcp.byKind as Record<string, Any>).map(([kind, k]) => `${kind} ${fmt(k.count)} × ${fmt(k.meanMs)} ms`).join(', '), '']);
  rows.push(['CPU % (node | postgres | redis)', `${fmt(p.maxRate.nodeCpuPct)} | ${fmt(p.maxRate.otherCpuPct?.postgres)} | ${fmt(p.maxRate.otherCpuPct?.['redis-server'])}`, `${(result.machine as Any).cpus} cpus`, '']);
  const sched = p.maxRate.scheduler;
  if (sched) {
    rows.push(['main thread % of max window: on CPU | waiting for a CPU', `${fmt(sched.mainThreadOnCpuPct)} | ${fmt(sched.mainThreadRunQueuePct)}; preempted ${fmt(sched.involuntarySwitchesPerSec)}/s`, `machine idle ${fmt(sched.machineIdlePct)} %`, '']);
  }
  const f = p.fixedRate;
  rows.push([`publish→SENT ms @ ${f.targetRate}/s (p50/p95/p99)`, `${fmt(f.sentLatencyMs.p50)} / ${fmt(f.sentLatencyMs.p95)} / ${fmt(f.sentLatencyMs.p99)}`, `achieved ${fmt(f.achievedRate)}/s${f.checkpointedBefore ? ', after CHECKPOINT' : ''}`, '']);
  rows.push(['publish() call ms (p50/p99)', `${fmt(f.publishCallMs.p50)} / ${fmt(f.publishCallMs.p99)}`, '', '']);
  const { storedToFannedOut: fan, fannedOutToSent: send } = f.sentLatencyStagesMs;
  rows.push(['stored→fanned out | fanned out→SENT ms (p50/p99)', `${fmt(fan.p50)} / ${fmt(fan.p99)} | ${fmt(send.p50)} / ${fmt(send.p99)}`, 'split at the claim transaction\'s now()', '']);
  const waits = Object.entries(f.backendWaits.byWait as Record<string, number>).slice(0, 4).map(([wait, n]) => `${wait} ${n}`).join(', ');
  const canary = f.bystanderCommits;
  const canaryMs = (c: Any) => `${fmt(c?.ms.p50)} / ${fmt(c?.ms.p99)} / ${fmt(c?.ms.max)}, ${fmt(c?.over15ms)} over 15 ms`;
  rows.push([`bystander 1-row commit ms @ ${f.targetRate}/s (p50/p99/max)`, canaryMs(canary.loaded), `idle ${canaryMs(canary.idle)}`, '']);
  const kernel = (k: Any) => `${fmt(k.totalMsPerSec)} ms/s${k.busiest.length ? ` (${k.busiest.map((t: Any) => `${t.name} ${fmt(t.msPerSec)}`).join(', ')})` : ''}`;
  rows.push([`kernel threads' CPU @ ${f.targetRate}/s (busiest three)`, kernel(f.kernelThreadsCpu), `max window ${kernel(p.maxRate.kernelThreadsCpu)}`, '']);
  rows.push([`Postgres backends @ ${f.targetRate}/s: waiting on (of ${f.backendWaits.samples} snapshots)`, waits || 'none active', '', '']);
  rows.push([`WAL flushes @ ${f.targetRate}/s (fsyncs, writes)`, `${fmt(f.wal.syncsPerSec)} syncs/s (${fmt(f.wal.syncsPerEvent)} per event), ${fmt(f.wal.writesPerSec)} writes/s`, `max window ${fmt(p.maxRate.wal.syncsPerSec)} syncs/s (${fmt(p.maxRate.wal.syncsPerEvent)} per event)`, '']);
  rows.push(['Postgres rows per event (ins + upd)', `${fmt(f.pgRowsPerEvent.inserted)} + ${fmt(f.pgRowsPerEvent.updated)} = ${fmt(f.pgRowsPerEvent.total)}`, '', '']);
  const w = p.maxRate.wal;
  rows.push(['WAL per event, max window (cluster-wide)', `${fmt(w.bytesPerEvent)} B, ${fmt(w.recordsPerEvent)} records, ${fmt(w.fpiPerEvent)} FPI; ${fmt(w.checkpoints)} checkpoints`, `${fmt(w.mbPerSec)} MB/s; ${w.rowWritesOtherDbs > 0.05 * w.rowWritesThisDb || w.otherDbsBusy.length > 0 ? `NOT clean: other DBs wrote ${fmt(w.rowWritesOtherDbs)} rows${w.otherDbsBusy.length ? `, busy: ${w.otherDbsBusy.join(' ')}` : ''}` : 'no other DB writing'}`, '']);
  const mw = p.maxRate.memory;
  if (mw) {
    rows.push([`RSS MB, max window ${fmt(mw.seconds)} s (first → last tenth)`, `${fmt(mw.firstTenthMb)} → ${fmt(mw.lastTenthMb)}, max ${fmt(mw.maxMb)}`, `drift ${fmt(mw.tenthsDriftPct, '%')}`, '']);
    rows.push([`heap MB, max window (first → last tenth)`, `${fmt(mw.heapFirstTenthMb)} → ${fmt(mw.heapLastTenthMb)}, max ${fmt(mw.heapMaxMb)}`, `drift ${fmt(mw.heapTenthsDriftPct, '%')}`, '']);
    const tenths = (xs: number[]) => xs.map((x) => fmt(Math.round(x))).join(' ');
    rows.push(['RSS | heap used MB, max window, median of each tenth', tenths(mw.rssByTenthMb), tenths(mw.heapByTenthMb), '']);
    rows.push(['heap committed | external MB, each tenth', tenths(mw.heapCommittedByTenthMb), tenths(mw.externalByTenthMb), '']);
  }
  const m = p.memory;
  if (m) rows.push(['RSS MB after warm-up (min/max/last, drift)', `${fmt(m.minMb)} / ${fmt(m.maxMb)} / ${fmt(m.lastMb)}`, `drift ${fmt(m.driftPct, '%')}`, '']);
}
if (bl) {
  rows.push([`backlog of ${fmt(bl.events)}: events/s processed (sweeper)`, fmt(bl.eventsPerSec), 'target ≥ 1,000', '']);
  rows.push(['backlog: deliveries/s (all SENT)', fmt(bl.deliveriesPerSec), `drained ${bl.drained ? 'yes' : 'NO'}`, '']);
  rows.push(['backlog: first delivery / events done / all sent (s)', [bl.firstDeliveryMs, bl.eventsProcessedMs, bl.allDeliveriesMs].map((ms) => fmt(ms == null ? null : round(ms / 1000, 1))).join(' / '), '', '']);
}
if (h.herald) rows.push([`HTTP POST /v1/events req/s (${h.connections} conns, means)`, fmt(h.herald.reqPerSec), `bare Fastify ${fmt(h.bare.reqPerSec)} req/s; median of ${h.pairs} alternating pairs (${h.pairRatios.map((x: number) => fmt(x)).join(', ')})`, fmt(r.httpReqPerSec_vs_bareFastify)]);
if (h.herald) rows.push(['HTTP Node CPU µs per request (server + client)', fmt(h.herald.cpuUsPerRequest), `bare ${fmt(h.bare.cpuUsPerRequest)}`, fmt(r.httpCpuPerRequest_vs_bareFastify)]);
if (h.herald) {
  const loop = (route: Any) => route.loopUtilizationByWindow.map((u: number | null) => fmt(u)).join(', ');
  rows.push(['HTTP µs per request on the main thread; event-loop busy', `${fmt(h.herald.mainThreadCpuUsPerRequest)}; ${loop(h.herald)}`, `bare ${fmt(h.bare.mainThreadCpuUsPerRequest)}; ${loop(h.bare)}`, '']);
}
if (h.herald) rows.push(['HTTP latency ms (p50/p99), non-2xx', `${fmt(h.herald.latencyMs.p50)} / ${fmt(h.herald.latencyMs.p99)}, ${fmt(h.herald.non2xx)}`, `bare ${fmt(h.bare.latencyMs.p50)} / ${fmt(h.bare.latencyMs.p99)}`, '']);

const header: [string, string, string, string] = ['figure', 'Herald', 'same-run baseline', 'ratio'];
const widths = header.map((_, i) => Math.max(header[i]!.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' │ ');
console.log(`\nHerald bench — provider latency ${options.providerLatencyMs} ms${quick ? ', quick' : ''}, ${(result.machine as Any).cpus} cpus, node ${process.version}${(result.machine as Any).nodeOptions ? ` (NODE_OPTIONS ${(result.machine as Any).nodeOptions})` : ''}${(result.machine as Any).execArgv.length ? ` [node ${(result.machine as Any).execArgv.join(' ')}]` : ''}`);
const pg = (result.postgres ?? {}) as Any;
console.log(`Postgres ${pg.server_version}: shared_buffers ${pg.shared_buffers}, max_wal_size ${pg.max_wal_size}, wal_compression ${pg.wal_compression}, synchronous_commit ${pg.synchronous_commit}`);
console.log(line(header));
console.log(widths.map((w) => '─'.repeat(w)).join('─┼─'));
for (const row of rows) console.log(line(row));

const outDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../bench/results');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `${new Date(started).toISOString().replace(/:/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
