// What the pipeline and backlog phases share: the seeded customers and an in-process Notifier
// with sandbox providers for push, email and SMS.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../lib/app-context.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import type { ChannelSet } from '../../lib/channels/channel.js';
import { Notifier } from '../../lib/notifications/notifier.js';

export interface BenchCustomer {
  userId: string;
  accountNumber: string;
}

/** Customers seeded so far in this run: each call takes the next account numbers (several phases seed). */
let seeded = 0;

/** Customers with email, phone and an active device: a transaction.completed for one fans out to three deliveries. */
export async function seedCustomers(ctx: AppContext, count: number): Promise<BenchCustomer[]> {
  const first = seeded;
  seeded += count;
  const customers = Array.from({ length: count }, (_, i) => ({
    user_id: `bench-u-${first + i}-${randomUUID().slice(0, 8)}`,
    account_number: String(100_000_000_000 + first + i),
    token: `bench-tok-${randomUUID()}`,
  }));
  const json = JSON.stringify(customers);
  await ctx.pool.query(
    `INSERT INTO customers (user_id, email, phone, locale, time_zone)
     SELECT user_id, user_id || '@example.test', '+265991234567', 'en', 'Africa/Blantyre' FROM jsonb_to_recordset($1::jsonb) AS x(user_id text)`,
    [json],
  );
  await ctx.pool.query(
    `INSERT INTO accounts (account_number, owner_user_id, currency)
     SELECT account_number, user_id, 'MWK' FROM jsonb_to_recordset($1::jsonb) AS x(user_id text, account_number text)`,
    [json],
  );
  await ctx.pool.query(
    `INSERT INTO devices (user_id, token, platform) SELECT user_id, token, 'android' FROM jsonb_to_recordset($1::jsonb) AS x(user_id text, token text)`,
    [json],
  );
  return customers.map((c) => ({ userId: c.user_id, accountNumber: c.account_number }));
}

export interface OutcomeCounters {
  sent: number;
  other: number;
  byStatus: Record<string, number>;
  /** performance.now() of the first outcome (null until one arrives). */
  firstAt: number | null;
  /** performance.now() of the latest outcome. */
  lastAt: number | null;
}

export interface BenchNotifier {
  notifier: Notifier;
  counters: OutcomeCounters;
  /** Stops the notifier (in-flight sends finish) and the sandbox log clean-up. */
  stop(): Promise<void>;
}

/**
 * A Notifier as services/notifier builds one, with sandbox providers and the configured
 * timings; started. Retries go through the due-delivery poller (no BullMQ).
 */
export async function startBenchNotifier(ctx: AppContext, o: { instanceId: string; latencyMs: number; concurrency: number }): Promise<BenchNotifier> {
  const sandbox = { latencyMs: o.latencyMs };
  const channels = { push: new SandboxChannel('push', sandbox), email: new SandboxChannel('email', sandbox), sms: new SandboxChannel('sms', sandbox) };
  // SandboxChannel remembers every send (an array and a map, for tests); a long bench would
  // measure that growth, not Herald's, so the bench empties them every second.
  const forget = setInterval(() => {
    for (const ch of Object.values(channels)) {
      ch.sends.length = 0;
      (ch as unknown as { counts: Map<string, number> }).counts.clear();
    }
  }, 1_000);

  const counters: OutcomeCounters = { sent: 0, other: 0, byStatus: {}, firstAt: null, lastAt: null };
  const schedule = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 2_000 };
  const notifier = new Notifier({
    pool: ctx.pool,
    bus: ctx.bus,
    channels: channels as ChannelSet,
    logger: ctx.logger,
    instanceId: o.instanceId,
    retrySchedules: { push: schedule, email: schedule, sms: schedule },
    onOutcome: (outcome) => {
      if (outcome.status === 'SENT') counters.sent++;
      else counters.other++;
      counters.byStatus[outcome.status] = (counters.byStatus[outcome.status] ?? 0) + 1;
      const now = performance.now();
      counters.firstAt ??= now;
      counters.lastAt = now;
    },
    timing: {
      sweeperGraceMs: ctx.config.SWEEPER_GRACE_MS,
      sweeperIntervalMs: ctx.config.SWEEPER_INTERVAL_MS,
      sweeperBatchSize: ctx.config.SWEEPER_BATCH_SIZE,
      maxProcessAttempts: ctx.config.EVENT_MAX_PROCESS_ATTEMPTS,
      deliveryPollIntervalMs: ctx.config.DELIVERY_POLL_INTERVAL_MS,
      deliveryStaleMs: ctx.config.DELIVERY_STALE_MS,
      sendTimeoutMs: ctx.config.DELIVERY_SEND_TIMEOUT_MS,
      concurrency: o.concurrency,
    },
  });
  try {
    await notifier.start();
  } catch (error) {
    clearInterval(forget);
    throw error;
  }
  return {
    notifier,
    counters,
    async stop() {
      clearInterval(forget);
      await notifier.stop();
    },
  };
}
