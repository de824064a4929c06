import { randomUUID } from 'node:crypto';
import { createAppContext, type AppContext } from '../../lib/app-context.js';
import type { ChannelSet } from '../../lib/channels/channel.js';
import { loadConfig } from '../../lib/config.js';
import type { PoolClient } from '../../lib/db/pool.js';
import { Notifier, type NotifierOptions } from '../../lib/notifications/notifier.js';
import type { RetrySchedules } from '../../lib/queues/retry-policy.js';

export function testContext(env: Record<string, string> = {}): AppContext {
  return createAppContext(loadConfig({ ...process.env, SWEEPER_GRACE_MS: '300', ...env }));
}

export const fastRetries: RetrySchedules = {
  push: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 },
  email: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 },
  sms: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 },
};

export async function startTestNotifier(
  ctx: AppContext,
  channels: ChannelSet,
  instanceId = `test-${randomUUID().slice(0, 8)}`,
  extra: Partial<NotifierOptions> = {},
): Promise<Notifier> {
  const notifier = new Notifier({
    pool: ctx.pool,
    bus: ctx.bus,
    channels,
    logger: ctx.logger,
    instanceId,
    retrySchedules: fastRetries,
    timing: {
      sweeperGraceMs: 300,
      sweeperIntervalMs: 100,
      sweeperBatchSize: 200,
      maxProcessAttempts: 3,
      deliveryPollIntervalMs: 100,
      deliveryStaleMs: 5_000,
      sendTimeoutMs: 2_000,
      concurrency: 32,
    },
    ...extra,
  });
  await notifier.start();
  return notifier;
}

/** A customer with every contact: email, phone and one active device. */
export async function createCustomer(ctx: AppContext, overrides: { locale?: string; timeZone?: string; devices?: number } = {}) {
  const userId = `u-${randomUUID()}`;
  const accountNumber = String(Math.floor(1e11 + Math.random() * 9e11));
  await ctx.pool.query(
    `INSERT INTO customers (user_id, email, phone, locale, time_zone) VALUES ($1, $2, $3, $4, $5)`,
    [userId, `${userId}@example.test`, '+265991234567', overrides.locale ?? 'en', overrides.timeZone ?? 'Africa/Blantyre'],
  );
  await ctx.pool.query(`INSERT INTO accounts (account_number, owner_user_id, currency) VALUES ($1, $2, 'MWK')`, [accountNumber, userId]);
  for (let i = 0; i < (overrides.devices ?? 1); i++) {
    await ctx.pool.query(`INSERT INTO devices (user_id, token, platform) VALUES ($1, $2, 'android')`, [userId, `tok-${randomUUID()}`]);
  }
  return { userId, accountNumber };
}

export async function deleteCustomer(ctx: AppContext, userId: string): Promise<void> {
  // Cascading deletes can deadlock with a concurrent sweeper touching the same rows; retry.
  for (let attempt = 0; ; attempt++) {
    try {
      await ctx.pool.query('DELETE FROM domain_events WHERE user_id = $1', [userId]);
      await ctx.pool.query('DELETE FROM notifications WHERE user_id = $1', [userId]);
      await ctx.pool.query('DELETE FROM customers WHERE user_id = $1', [userId]);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}

export function transactionCompleted(customer: { userId: string; accountNumber: string }, overrides: Record<string, unknown> = {}) {
  const transactionId = `t-${randomUUID()}`;
  return {
    id: randomUUID(),
    type: 'transaction.completed' as const,
    aggregateType: 'transaction' as const,
    aggregateId: transactionId,
    payload: { transactionId, accountNumber: customer.accountNumber, amount: '1250.00', currency: 'MWK', direction: 'debit' as const, ...overrides },
    metadata: { userId: customer.userId, source: 'test' },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function deliveriesOf(ctx: AppContext, eventId: string) {
  const { rows } = await ctx.pool.query<{ id: string; channel: string; status: string; attempts: number; notification_id: string }>(
    `SELECT d.id, d.channel, d.status, d.attempts, d.notification_id FROM notification_deliveries d
       JOIN notifications n ON n.id = d.notification_id WHERE n.event_id = $1 ORDER BY d.channel`,
    [eventId],
  );
  return rows;
}

/** Runs `fn` on one connection inside a transaction that is always rolled back: nothing to clean up. */
export async function inRolledBackTransaction<T>(ctx: AppContext, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await ctx.pool.connect();
  try {
    await client.query('BEGIN');
    return await fn(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}
