import type { Logger } from '../logger.js';
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { prepared } from '../db/prepared.js';
import { Batcher } from '../util/batcher.js';
import type { EventType } from './catalog/index.js';
import { eventColumns, rowToEvent, type EventRow, type StoredEvent } from './stored-event.js';

export interface HandlerContext {
  /** The transaction that also marks the events processed: a handler's writes commit with it. */
  client: PoolClient;
  /** True when an operator asked for these events to be handled again. */
  replay: boolean;
}

/** Work to run once the transaction has committed (e.g. hand new deliveries to the dispatcher). */
export type AfterCommit = () => void | Promise<void>;

/**
 * A durable handler runs inside the claim transaction and must be idempotent: the same event
 * can reach it again after a crash, a replay or a retry. Its statements are planned without
 * sequential scans (claimTransactionSettings): what it reads must have an index.
 */
export interface DurableHandler {
  name: string;
  types: readonly EventType[] | '*';
  handle(events: StoredEvent[], context: HandlerContext): Promise<AfterCommit | void>;
}

export interface EventProcessorOptions {
  pool: Pool;
  handlers: DurableHandler[];
  logger: Logger;
  /** Events younger than this are left to the pub/sub path. */
  graceMs: number;
  batchSize: number;
  maxAttempts: number;
  onProcessed?: (count: number) => void;
}

export interface ProcessOutcome {
  processed: number;
  failed: number;
}

/**
 * Claims events by locking their outbox rows with FOR UPDATE SKIP LOCKED, so any number of
 * instances can process the same hints and sweep the same backlog without doing any event
 * twice at once. An event whose outbox row is gone has been processed, and one whose row is
 * quarantined waits for a replay: neither is found. The locks and the bookkeeping touch only
 * the small outbox table; the event itself is read by primary key.
 *
 * Each claim comes in two forms. `take` deletes the outbox rows as it locks them, for the
 * first run of a batch: if any handler fails, that transaction rolls back whole and the rows
 * come back, so deleting up front is safe and saves the closing DELETE's round trip on every
 * batch. `lock` only locks, for the rerun with isolated handlers, which deletes just the events
 * whose handlers all succeeded.
 */
export interface Claim {
  name: string;
  take: string;
  lock: string;
}

// The outbox rows a claim locks. By id, the only condition is the id, so the plan is the
// primary key whatever the statistics say (with a quarantine condition next to it, stale
// statistics picked the due-order partial index and filtered the whole backlog by id); the
// quarantined rows are dropped after the lock.
const lockById = `SELECT event_id, attempts, quarantined_at FROM event_outbox
         WHERE event_id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED`;
const lockByAge = `SELECT event_id, attempts, quarantined_at FROM event_outbox
         WHERE quarantined_at IS NULL
           AND stored_at < now() - make_interval(secs => $1::double precision / 1000)
           AND (retry_at IS NULL OR retry_at <= now())
         ORDER BY stored_at LIMIT $2 FOR UPDATE SKIP LOCKED`;

// A CTE with FOR UPDATE runs once, as written; the quarantine filter is applied to its rows
// (in a subquery, Postgres pushed it down into the scan). `take` then deletes by primary key
// from the locked ids, as an ARRAY evaluated once: written as
// `event_id IN (locking subquery)`, Postgres (which never flattens a subquery with FOR UPDATE)
// ran the subquery once per outbox row, seconds per claim with a backlog.
function claim(name: string, lock: string): Claim {
  return {
    name,
    take: `WITH locked AS (${lock})
           , taken AS (
             DELETE FROM event_outbox WHERE event_id = ANY(ARRAY(SELECT event_id FROM locked WHERE quarantined_at IS NULL))
             RETURNING event_id AS id, attempts AS process_attempts)
           SELECT ${eventColumns}, process_attempts FROM taken JOIN domain_events USING (id) ORDER BY stored_at`,
    lock: `WITH locked AS (${lock})
           SELECT ${eventColumns}, attempts AS process_attempts
             FROM locked JOIN domain_events ON id = event_id WHERE quarantined_at IS NULL ORDER BY stored_at`,
  };
}

const claimById = claim('events-by-id', lockById);
const claimUnprocessed = claim('unprocessed-events', lockByAge);

/** The claim statements, for tests that check their plans stay index lookups under a backlog. */
export const outboxClaims = { byId: claimById, unprocessed: claimUnprocessed } as const;

/**
 * Claim transactions plan without sequential scans. A queue table's statistics are taken at a
 * random moment, often while it is drained: analyzed with one page and no live rows, Postgres
 * takes event_outbox for a single row whatever it holds, and until the table outgrows about 85
 * pages (some 11,000 rows) a claim of 20 ids read the whole backlog in a sequential scan instead
 * of probing the primary key (tests/events/outbox-claims.test.ts). No rewrite of the claims
 * keeps every statement off that plan (the DELETE by id or by ctid fell back to it below about
 * 40 pages, and as a join it hashed the whole table), so the transaction says it. Handlers
 * run in the same transaction and plan the same way: they are hot-path lookups, each with its
 * index, and where no index applies Postgres still scans.
 */
export const claimTransactionSettings = ['SET LOCAL enable_seqscan = off'] as const;

/**
 * How far claims may run ahead of the sends, in batches' worth of events (batchSize each): the
 * events whose sends may still be running while more are claimed. Counted in events, not
 * batches: at a steady rate hint batches hold a few events each, and four of them in flight
 * made every new event wait for an earlier one's sends before its fan-out (with 20 ms
 * providers, stored → fanned out p50 12 ms against 2, publish→SENT p99 50-51 against 33-36;
 * README, Performance).
 */
const settlingBatches = 4;

export class EventProcessor {
  private readonly hints: Batcher<string, void>;
  private readonly settling = new Set<Promise<void>>();
  /** The events those batches hold. */
  private settlingEvents = 0;

  constructor(private readonly options: EventProcessorOptions) {
    this.hints = new Batcher<string, void>({
      run: async (ids) => {
        await this.claimPipelined(claimById, [[...new Set(ids)]]);
        return ids.map(() => undefined);
      },
      maxSize: options.batchSize,
      lingerMs: 2,
      maxPending: options.batchSize * 20,
      // Two claim transactions at a time: hints that arrive meanwhile leave together as one
      // bigger batch, so under load the per-statement cost is shared by more events.
      maxConcurrent: 2,
    });
  }

  /** A pub/sub hint: the event is probably new and unprocessed. */
  hint(eventId: string): Promise<void> {
    return this.hints.add(eventId).catch((error) => {
      // The sweeper will find the event; a failed fast path is not a lost event.
      this.options.logger.warn({ err: error, eventId }, 'processing from hint failed; the sweeper will retry');
    });
  }

  /** Processes these events now and returns once their after-commit work (the sends) is done too. */
  async processIds(ids: string[], replay = false): Promise<ProcessOutcome> {
    if (ids.length === 0) return { processed: 0, failed: 0 };
    return this.claimAndRun(claimById, [ids], replay);
  }

  /** One sweeper pass: events nobody processed within the grace period (lost hints, crashes, retries). */
  async sweep(): Promise<ProcessOutcome> {
    return this.claimAndRun(claimUnprocessed, [this.options.graceMs, this.options.batchSize], false);
  }

  /**
   * A sweeper pass that returns once its claim has committed, leaving its sends running, so the
   * next pass is claimed and fanned out while this one's deliveries go out.
   */
  async sweepPipelined(): Promise<ProcessOutcome> {
    return this.claimPipelined(claimUnprocessed, [this.options.graceMs, this.options.batchSize]);
  }

  /** Sweeps until a pass finds nothing left to claim. */
  async sweepAll(): Promise<ProcessOutcome> {
    const total = { processed: 0, failed: 0 };
    for (;;) {
      const pass = await this.sweep();
      total.processed += pass.processed;
      total.failed += pass.failed;
      if (pass.processed + pass.failed < this.options.batchSize) return total;
    }
  }

  async drain(): Promise<void> {
    await this.hints.drain();
    await Promise.all(this.settling);
  }

  /**
   * Claims and commits, then lets the after-commit work run on while the caller moves on to the
   * next batch. Once `settlingBatches` batches' worth of events are still sending, claims wait
   * for some to finish: they never run further ahead of the sends than that (plus the batches
   * being claimed at that moment), so memory stays bounded under any backlog.
   */
  private async claimPipelined(c: Claim, params: unknown[]): Promise<ProcessOutcome> {
    while (this.settlingEvents >= this.options.batchSize * settlingBatches) await Promise.race(this.settling);
    const { settled, ...outcome } = await this.claimAndCommit(c, params, false);
    const events = outcome.processed + outcome.failed;
    this.settling.add(settled);
    this.settlingEvents += events;
    void settled.finally(() => {
      this.settling.delete(settled);
      this.settlingEvents -= events;
    });
    return outcome;
  }

  private async claimAndRun(c: Claim, params: unknown[], replay: boolean): Promise<ProcessOutcome> {
    const { settled, ...outcome } = await this.claimAndCommit(c, params, replay);
    await settled;
    return outcome;
  }

  /**
   * Runs the handlers without savepoints first: two round trips per handler saved on every
   * batch. If one fails, that transaction is rolled back whole (its claim too) and the batch
   * is claimed again with each handler in a savepoint, which isolates the failing events.
   */
  private async claimAndCommit(c: Claim, params: unknown[], replay: boolean): Promise<ProcessOutcome & { settled: Promise<void> }> {
    try {
      return await this.claimAndCommitOnce(`take-${c.name}`, c.take, params, replay, false);
    } catch (error) {
      if (!(error instanceof HandlerFailedError)) throw error;
      this.options.logger.debug({ handler: error.handler, err: error.cause }, 'handler failed in a batch; claiming it again with each handler isolated');
      return this.claimAndCommitOnce(`claim-${c.name}`, c.lock, params, replay, true);
    }
  }

  private async claimAndCommitOnce(
    name: string,
    sql: string,
    params: unknown[],
    replay: boolean,
    isolate: boolean,
  ): Promise<ProcessOutcome & { settled: Promise<void> }> {
    const afterCommit: AfterCommit[] = [];
    const outcome = await withTransaction(this.options.pool, async (client) => {
      const { rows } = await client.query<EventRow & { process_attempts: number }>(prepared(name, sql, params));
      if (rows.length === 0) return { processed: 0, failed: 0 };
      const events = rows.map(rowToEvent);
      const attempts = new Map(rows.map((r) => [r.id, r.process_attempts]));
      const failures = new Map<string, { handler: string; error: unknown }>();

      for (const handler of this.options.handlers) {
        const relevant = events.filter((e) => matches(handler, e) && !failures.has(e.id));
        if (relevant.length === 0) continue;
        if (isolate) {
          afterCommit.push(...(await this.runIsolated(client, handler, relevant, replay, failures)));
          continue;
        }
        const after = await handler.handle(relevant, { client, replay }).catch((error: unknown) => {
          throw new HandlerFailedError(handler.name, error);
        });
        if (after) afterCommit.push(after);
      }

      const done = events.filter((e) => !failures.has(e.id)).map((e) => e.id);
      // Without isolation the claim took (deleted) the outbox rows already.
      if (isolate && done.length > 0) {
        await client.query(prepared('mark-events-processed', 'DELETE FROM event_outbox WHERE event_id = ANY($1::uuid[])', [done]));
      }
      if (failures.size > 0) await this.recordFailures(client, failures, attempts);
      return { processed: done.length, failed: failures.size };
    }, claimTransactionSettings);
    this.options.onProcessed?.(outcome.processed);
    return { ...outcome, settled: this.runAfterCommit(afterCommit) };
  }

  private async runAfterCommit(steps: AfterCommit[]): Promise<void> {
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        this.options.logger.error({ err: error }, 'after-commit step failed; the durable pollers will pick the work up');
      }
    }
  }

  /**
   * Runs a handler on the batch inside a savepoint. If the batch fails, each event is retried
   * alone so one poison event cannot hold back the rest of its batch.
   */
  private async runIsolated(
    client: PoolClient,
    handler: DurableHandler,
    events: StoredEvent[],
    replay: boolean,
    failures: Map<string, { handler: string; error: unknown }>,
  ): Promise<AfterCommit[]> {
    const attempt = async (batch: StoredEvent[]): Promise<AfterCommit | void> => {
      await client.query('SAVEPOINT handler');
      try {
        const after = await handler.handle(batch, { client, replay });
        await client.query('RELEASE SAVEPOINT handler');
        return after;
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT handler');
        throw error;
      }
    };
    try {
      const after = await attempt(events);
      return after ? [after] : [];
    } catch (batchError) {
      if (events.length === 1) {
        failures.set(events[0]!.id, { handler: handler.name, error: batchError });
        return [];
      }
      const afters: AfterCommit[] = [];
      for (const event of events) {
        try {
          const after = await attempt([event]);
          if (after) afters.push(after);
        } catch (error) {
          failures.set(event.id, { handler: handler.name, error });
        }
      }
      return afters;
    }
  }

  private async recordFailures(
    client: PoolClient,
    failures: Map<string, { handler: string; error: unknown }>,
    attempts: Map<string, number>,
  ): Promise<void> {
    const rows = [...failures].map(([eventId, { handler, error }]) => {
      const attempt = (attempts.get(eventId) ?? 0) + 1;
      const giveUp = attempt >= this.options.maxAttempts;
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.error(
        { eventId, handler, attempt, giveUp, err: error },
        giveUp ? 'event handler failed for the last time; event quarantined' : 'event handler failed; will retry',
      );
      // Backoff for the sweeper: 1 s, 2 s, 4 s ... capped at 5 minutes.
      const retryInMs = Math.min(1_000 * 2 ** (attempt - 1), 300_000);
      return { id: eventId, handler, error: message.slice(0, 2_000), attempt, give_up: giveUp, retry_ms: retryInMs };
    });
    await client.query(
      `WITH f AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, handler text, error text, attempt int, give_up boolean, retry_ms int)),
            logged AS (INSERT INTO event_handler_failures (event_id, handler, error) SELECT id, handler, error FROM f)
       UPDATE event_outbox o SET attempts = f.attempt, last_error = f.handler || ': ' || f.error,
              retry_at = now() + make_interval(secs => f.retry_ms / 1000.0),
              quarantined_at = CASE WHEN f.give_up THEN now() END
         FROM f WHERE o.event_id = f.id`,
      [JSON.stringify(rows)],
    );
  }
}

/** A handler threw while running without savepoints: the batch is retried with them. */
class HandlerFailedError extends Error {
  readonly code = 'HERALD_ERR_HANDLER_FAILED';
  constructor(readonly handler: string, cause: unknown) {
    super(`handler ${handler} failed`, { cause });
  }
}

function matches(handler: DurableHandler, event: StoredEvent): boolean {
  return handler.types === '*' || handler.types.includes(event.type);
}
