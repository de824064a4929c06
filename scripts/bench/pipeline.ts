// The service in-process: EventBus + Notifier with sandbox providers for push, email and SMS.
// Every published event is a transaction.completed for a customer with email, phone and a
// device, so it fans out to three deliveries.
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AppContext } from '../../lib/app-context.js';
import { sampleBackendWaits } from './backend-waits.js';
import { seedCustomers, startBenchNotifier, type BenchCustomer } from './bench-notifier.js';
import { idleCommitCanary, startCommitCanary } from './commit-canary.js';
import { watchGcPauses, type GcPauseSummary } from './gc-pauses.js';
import { cpuPercent, kernelThreadCpu, kernelThreadCpuSeconds, processCpuSeconds, schedDelta, schedSnapshot } from './proc-cpu.js';
import { percentile, round, RssSampler, settledTableStats, sleep, statsDelta, tableStats, walDelta, walStats } from './util.js';

export interface PipelineOptions {
  latencyMs: number;
  customers: number;
  warmupMs: number;
  maxWindowMs: number;
  /** Most events published but not yet settled (all three deliveries written) during the max-rate phase. */
  backlogCap: number;
  publishers: number;
  fixedRate: number;
  fixedMs: number;
  drainMs: number;
  concurrency: number;
  /** Only the warm-up and max-rate window (no fixed-rate phase): for the empty-table run of --compare-prefill. */
  maxOnly?: boolean;
}

/** One commit every 20 ms: about 50 a second beside Herald's 700 or so at 500 events/s. */
const canaryEveryMs = 20;

const benchTables = [
  'notification_history', 'dead_letters', 'delivery_receipts', 'notification_deliveries', 'notifications',
  'event_handler_failures', 'event_outbox', 'domain_events', 'notifier_instances', 'notification_preferences', 'devices', 'accounts', 'customers', 'api_keys',
];

/** Empties the bench database (and only a database whose name ends in _bench). */
export async function resetBenchDatabase(ctx: AppContext): Promise<void> {
  const { rows } = await ctx.pool.query<{ db: string }>('SELECT current_database() AS db');
  if (!rows[0]?.db.endsWith('_bench')) throw new Error(`refusing to empty database "${rows[0]?.db}": the bench only empties a *_bench database`);
  await ctx.pool.query(`TRUNCATE ${benchTables.join(', ')} CASCADE`);
}

function transactionCompleted(customer: BenchCustomer, phase: string) {
  const transactionId = `t-${randomUUID()}`;
  return {
    id: randomUUID(),
    type: 'transaction.completed' as const,
    aggregateType: 'transaction' as const,
    aggregateId: transactionId,
    payload: { transactionId, accountNumber: customer.accountNumber, amount: '1250.00', currency: 'MWK', direction: 'debit' as const, description: 'Bench transfer' },
    // A correlation id of its own, as each customer request has: the correlation index then takes
    // random keys, as it does in production. The phase rides in causationId (not indexed).
    metadata: { userId: customer.userId, correlationId: randomUUID(), causationId: phase, source: 'herald.bench' },
  };
}

/**
 * How often the WAL was written and fsynced. A commit returns only once its WAL is synced, so
 * at a fixed rate the syncs per second against the bystander's idle commit time say how busy
 * the disk's flushes were; fewer syncs than commits means commits shared a flush (group commit).
 */
function walFlushes(wal: ReturnType<typeof walDelta>, events: number, seconds: number) {
  return {
    writesPerSec: round(wal.writes / seconds, 0),
    syncsPerSec: round(wal.syncs / seconds, 0),
    syncsPerEvent: round(wal.syncs / Math.max(1, events), 2),
  };
}

export async function runPipeline(ctx: AppContext, o: PipelineOptions, rss: RssSampler, log: (line: string) => void) {
  const runTag = `bench-${randomUUID().slice(0, 8)}`;
  const customers = await seedCustomers(ctx, o.customers);
  const { counters, stop: stopNotifier } = await startBenchNotifier(ctx, { instanceId: `${runTag}-notifier`, latencyMs: o.latencyMs, concurrency: o.concurrency });

  let published = 0;
  let publishErrors = 0;
  const settledEvents = () => (counters.sent + counters.other) / 3;
  const pick = (i: number) => customers[i % customers.length]!;

  /** Closed loop: `publishers` concurrent publishers, held back while the unsettled backlog is over the cap. */
  async function maxRate(phase: string, ms: number): Promise<void> {
    const until = performance.now() + ms;
    let i = 0;
    await Promise.all(
      Array.from({ length: o.publishers }, async () => {
        while (performance.now() < until) {
          if (published - settledEvents() >= o.backlogCap) {
            await sleep(1);
            continue;
          }
          try {
            await ctx.bus.publish(transactionCompleted(pick(i++), phase));
            published++;
          } catch {
            publishErrors++;
            await sleep(10);
          }
        }
      }),
    );
  }

  async function drain(target: number, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (settledEvents() >= target) return true;
      await sleep(20);
    }
    return settledEvents() >= target;
  }

  // ---- max rate -----------------------------------------------------------------------
  // The bystander's commits with nothing else running: the baseline for its figures at the fixed rate.
  const canaryIdle = o.maxOnly ? null : await idleCommitCanary(ctx.config.DATABASE_URL, canaryEveryMs, 2_000);
  log(`pipeline: warm-up ${o.warmupMs} ms (provider latency ${o.latencyMs} ms)`);
  await maxRate(`${runTag}-warmup`, o.warmupMs);
  // Statistics as a production cluster's autovacuum would keep them: this machine's Postgres
  // runs with autovacuum off, so without this the planner would still see the tables the
  // bench emptied at start. Both runs of --compare-prefill get it.
  await ctx.pool.query('ANALYZE');
  const rssFrom = rss.mark();
  const walBefore = await walStats(ctx.pool);
  const before = { published, sent: counters.sent, other: counters.other, t: performance.now(), cpu: process.cpuUsage(), proc: processCpuSeconds(), kernel: kernelThreadCpuSeconds(), sched: schedSnapshot(), stats: await tableStats(ctx.pool) };
  log(`pipeline: max-rate window ${o.maxWindowMs} ms`);
  // Deliveries per second in each 5-s slice: a window's mean hides whether the rate holds or
  // sinks as the tables grow and checkpoints come round.
  const slices: number[] = [];
  let sliceFrom = counters.sent;
  const slicer = setInterval(() => {
    slices.push(Math.round((counters.sent - sliceFrom) / 5));
    sliceFrom = counters.sent;
  }, 5_000);
  const gc = watchGcPauses();
  let gcPauses: GcPauseSummary;
  try {
    await maxRate(`${runTag}-max`, o.maxWindowMs);
  } finally {
    clearInterval(slicer);
    gcPauses = gc.stop((performance.now() - before.t) / 1000);
  }
  const seconds = (performance.now() - before.t) / 1000;
  const after = { published, sent: counters.sent, other: counters.other, cpu: process.cpuUsage(before.cpu), proc: processCpuSeconds(), kernel: kernelThreadCpuSeconds(), sched: schedSnapshot() };
  const wal = walDelta(walBefore, await walStats(ctx.pool));
  const rssTo = rss.mark();
  const drained = await drain(published, o.drainMs);
  const statsAfterMax = await settledTableStats(ctx.pool);
  const maxDelta = statsDelta(before.stats, statsAfterMax);
  const windowPublished = after.published - before.published;
  const windowSent = after.sent - before.sent;
  const max = {
    seconds: round(seconds, 2),
    eventsPublished: windowPublished,
    publishedPerSec: round(windowPublished / seconds, 0),
    deliveriesSent: windowSent,
    deliveriesPerSec: round(windowSent / seconds, 0),
    /** Events fully delivered (3 SENT each) per second: the sustained figure. */
    eventsPerSec: round(windowSent / 3 / seconds, 0),
    deliveriesPerSecBy5s: slices,
    otherOutcomes: after.other - before.other,
    publishErrors,
    backlogAtEnd: round(after.published - (after.sent + after.other) / 3, 0),
    drainedAfterWindow: drained,
    nodeCpuPct: round(((after.cpu.user + after.cpu.system) / 1e6 / seconds) * 100, 1),
    otherCpuPct: cpuPercent(before.proc, after.proc, seconds),
    kernelThreadsCpu: kernelThreadCpu(before.kernel, after.kernel, seconds),
    /**
     * The event loop's thread: running, and runnable but waiting for a CPU, as shares of the
     * window, with its switches per second; and how idle the whole machine was.
     */
    scheduler: schedDelta(before.sched, after.sched, seconds),
    gcPauses,
    // Rows written while the window ran, including the tail that drained after it, per event.
    pgRowsPerEvent: round((maxDelta.ins + maxDelta.upd) / Math.max(1, published - before.published), 2),
    pgRowsPerSec: round(((maxDelta.ins + maxDelta.upd) / Math.max(1, published - before.published)) * (windowSent / 3 / seconds), 0),
    /**
     * WAL written during the window (not its drain tail) per event published in it. pg_stat_wal
     * and the WAL position are cluster-wide: anything else writing to this Postgres counts too.
     */
    wal: {
      scope: 'cluster-wide (pg_stat_wal, pg_current_wal_insert_lsn): other databases on this server count too',
      bytes: wal.bytes,
      statBytes: wal.statBytes,
      records: wal.records,
      fpi: wal.fpi,
      /** Checkpoints begun during the window: each one makes the next touch of every page log it whole again. */
      checkpoints: wal.checkpointsRequested + wal.checkpointsTimed,
      checkpointsRequested: wal.checkpointsRequested,
      /**
       * Rows written meanwhile in this database and in the server's other databases
       * (pg_stat_database): when the second is not small next to the first, the WAL figures
       * include someone else's writes.
       */
      rowWritesThisDb: wal.rowWritesHere,
      rowWritesOtherDbs: wal.rowWritesElsewhere,
      /** Other databases with a statement running at the start or the end of the window (their WAL counts here). */
      otherDbsBusy: wal.busyElsewhere,
      bytesPerEvent: round(wal.bytes / Math.max(1, windowPublished), 0),
      recordsPerEvent: round(wal.records / Math.max(1, windowPublished), 1),
      fpiPerEvent: round(wal.fpi / Math.max(1, windowPublished), 2),
      mbPerSec: round(wal.bytes / 2 ** 20 / seconds, 2),
      ...walFlushes(wal, windowPublished, seconds),
    },
    /** This process's RSS and heap over the max-rate window only (from the end of the warm-up). */
    memory: rss.summary(rssFrom, rssTo),
  };
  log(`pipeline: max ${max.eventsPerSec} events/s, ${max.deliveriesPerSec} deliveries/s, ${max.wal.bytesPerEvent} WAL bytes/event; deliveries/s by 5 s: ${slices.join(' ')}`);
  if (o.maxOnly) {
    await stopNotifier();
    return { runTag, customers: customers.length, maxRate: max, fixedRate: null, memory: rss.summary(rssFrom), outcomes: counters.byStatus };
  }

  // ---- fixed rate (open loop) -----------------------------------------------------------
  // The max-rate window leaves a WAL-triggered checkpoint running and shared buffers full of its
  // dirty pages. Starting on a completed checkpoint, the window measures 500 events/s itself
  // (the full-page images of its own first touches after that checkpoint included) rather than
  // the write-back of the window before it. CHECKPOINT needs superuser or pg_checkpoint; without
  // either, the window starts as it is and the result says so.
  const checkpointStarted = performance.now();
  const checkpointedBefore = await ctx.pool.query('CHECKPOINT').then(() => true, () => false);
  log(checkpointedBefore
    ? `pipeline: CHECKPOINT before the fixed-rate window (${Math.round(performance.now() - checkpointStarted)} ms)`
    : 'pipeline: CHECKPOINT not permitted; the fixed-rate window starts during the max-rate window\'s write-back');
  const phase = `${runTag}-fixed`;
  // stored_at is the database's clock; a second of margin covers any skew against this process's.
  const phaseStartedAt = new Date(Date.now() - 1_000);
  const statsBefore = await settledTableStats(ctx.pool);
  const publishedBefore = published;
  const publishLatencies: number[] = [];
  let behind = 0;
  let outstanding = 0;
  log(`pipeline: fixed rate ${o.fixedRate}/s for ${o.fixedMs} ms`);
  // Publisher, writer, notifier and recorder share this one event loop: time a callback waits
  // for it is latency no database change can remove.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const waits = await sampleBackendWaits(ctx.config.DATABASE_URL, 20);
  const canary = await startCommitCanary(ctx.config.DATABASE_URL, canaryEveryMs);
  const kernelBefore = kernelThreadCpuSeconds();
  const fixedWalBefore = await walStats(ctx.pool);
  const start = performance.now();
  let issued = 0;
  const inflight = new Set<Promise<void>>();
  while (performance.now() - start < o.fixedMs) {
    const due = Math.floor(((performance.now() - start) / 1000) * o.fixedRate);
    while (issued < due) {
      issued++;
      if (outstanding >= 5_000) {
        behind++; // bounded: the publisher never holds more than 5,000 unanswered publishes
        continue;
      }
      outstanding++;
      const t0 = performance.now();
      const p: Promise<void> = ctx.bus
        .publish(transactionCompleted(pick(issued), phase))
        .then(() => {
          published++;
          if (publishLatencies.length < 200_000) publishLatencies.push(performance.now() - t0);
        }, () => {
          publishErrors++;
        })
        .finally(() => {
          outstanding--;
          inflight.delete(p);
        });
      inflight.add(p);
    }
    await sleep(2);
  }
  const fixedSeconds = (performance.now() - start) / 1000;
  loopDelay.disable();
  const kernelThreadsCpu = kernelThreadCpu(kernelBefore, kernelThreadCpuSeconds(), fixedSeconds);
  const fixedWal = walDelta(fixedWalBefore, await walStats(ctx.pool));
  const backendWaits = await waits.stop();
  const canaryLoaded = await canary.stop();
  await Promise.all(inflight);
  const fixedPublished = published - publishedBefore;
  const fixedDrained = await drain(published, o.drainMs);
  const statsAfter = await settledTableStats(ctx.pool);
  const delta = statsDelta(statsBefore, statsAfter);
  // Besides the whole latency, its two halves, split where the claim transaction created the
  // notification (its now()): stored → fanned out is the insert's commit, the broadcast, the hint
  // and the wait for a claim slot; fanned out → SENT is the rest of that transaction, the send
  // and the outcome write. On a slow VM they tell which stage the tail is in.
  const spanMs = (span: string) => `extract(epoch FROM ${span}) * 1000`;
  const pct = (p: number, span: string) => `percentile_cont(${p}) WITHIN GROUP (ORDER BY ${spanMs(span)}) FILTER (WHERE d.status = 'SENT')`;
  const [whole, fannedOut, sent] = ['d.sent_at - e.stored_at', 'n.created_at - e.stored_at', 'd.sent_at - n.created_at'] as const;
  const { rows } = await ctx.pool.query<{ n: number; p50: number; p95: number; p99: number; max: number; pending: number; fan_p50: number; fan_p99: number; send_p50: number; send_p99: number }>(
    `SELECT count(*) FILTER (WHERE d.status = 'SENT') AS n,
            ${pct(0.5, fannedOut)} AS fan_p50, ${pct(0.99, fannedOut)} AS fan_p99,
            ${pct(0.5, sent)} AS send_p50, ${pct(0.99, sent)} AS send_p99,
            ${pct(0.5, whole)} AS p50, ${pct(0.95, whole)} AS p95, ${pct(0.99, whole)} AS p99,
            max(${spanMs(whole)}) FILTER (WHERE d.status = 'SENT') AS max,
            count(*) FILTER (WHERE d.status <> 'SENT') AS pending
       FROM domain_events e JOIN notifications n ON n.event_id = e.id JOIN notification_deliveries d ON d.notification_id = n.id
      WHERE e.stored_at >= $2 AND e.causation_id = $1`,
    [phase, phaseStartedAt],
  );
  const r = rows[0]!;
  const fixed = {
    targetRate: o.fixedRate,
    checkpointedBefore,
    seconds: round(fixedSeconds, 2),
    eventsPublished: fixedPublished,
    achievedRate: round(fixedPublished / fixedSeconds, 0),
    skippedBehind: behind,
    drained: fixedDrained,
    deliveriesSent: Number(r.n),
    deliveriesNotSent: Number(r.pending),
    sentLatencyMs: { p50: round(Number(r.p50)), p95: round(Number(r.p95)), p99: round(Number(r.p99)), max: round(Number(r.max)) },
    sentLatencyStagesMs: {
      storedToFannedOut: { p50: round(Number(r.fan_p50)), p99: round(Number(r.fan_p99)) },
      fannedOutToSent: { p50: round(Number(r.send_p50)), p99: round(Number(r.send_p99)) },
    },
    publishCallMs: { p50: round(percentile(publishLatencies, 50), 2), p95: round(percentile(publishLatencies, 95), 2), p99: round(percentile(publishLatencies, 99), 2) },
    /** How late the event loop ran a 5 ms timer while the phase ran (node:perf_hooks monitorEventLoopDelay). */
    eventLoopDelayMs: { p50: round(loopDelay.percentile(50) / 1e6, 1), p99: round(loopDelay.percentile(99) / 1e6, 1), max: round(loopDelay.max / 1e6, 1) },
    /** What Herald's Postgres backends were doing while the phase ran, from pg_stat_activity every 20 ms. */
    backendWaits,
    /**
     * A bystander's single-row commits on its own connection, idle (before the warm-up) and
     * while the phase ran: a tail both it and Herald show is the machine's or the server's.
     */
    bystanderCommits: { idle: canaryIdle, loaded: canaryLoaded },
    /** Kernel threads' CPU while the phase ran (ms per second of wall time), from /proc. */
    kernelThreadsCpu,
    /** The WAL flushes the commits of the window (Herald's and the bystander's) waited for. */
    wal: { bytesPerEvent: round(fixedWal.bytes / Math.max(1, fixedPublished), 0), ...walFlushes(fixedWal, fixedPublished, fixedSeconds) },
    pgRowsPerEvent: {
      /** False when the phase did not drain in time: the counts then miss the undelivered tail. */
      complete: fixedDrained,
      inserted: round(delta.ins / Math.max(1, fixedPublished), 2),
      updated: round(delta.upd / Math.max(1, fixedPublished), 2),
      total: round((delta.ins + delta.upd) / Math.max(1, fixedPublished), 2),
      perTable: Object.fromEntries(
        Object.entries(delta.perTable).map(([t, d]) => [t, { ins: round(d.ins / Math.max(1, fixedPublished), 2), upd: round(d.upd / Math.max(1, fixedPublished), 2) }]),
      ),
    },
  };
  log(`pipeline: fixed ${fixed.achievedRate}/s, SENT p50 ${fixed.sentLatencyMs.p50} ms p99 ${fixed.sentLatencyMs.p99} ms; event-loop delay p50 ${fixed.eventLoopDelayMs.p50} ms p99 ${fixed.eventLoopDelayMs.p99} ms max ${fixed.eventLoopDelayMs.max} ms`);
  const memory = rss.summary(rssFrom);

  await stopNotifier();
  return { runTag, customers: customers.length, maxRate: max, fixedRate: fixed, memory, outcomes: counters.byStatus };
}
