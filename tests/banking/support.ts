import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { createHttpCoreBanking } from '../../lib/banking/core-banking-http.js';
import type { CoreBanking } from '../../lib/banking/core-banking.js';
import { startSimulatedCoreBank, type SimulatedCoreBank } from '../../lib/banking/sandbox/simulated-core-bank.js';
import { deleteCustomer, testContext } from '../support/harness.js';

/** A simulated core bank on loopback and the real HTTP adapter pointed at it. */
export async function startBank(options: { maxBatch?: number; timeoutMs?: number } = {}): Promise<{ bank: SimulatedCoreBank; coreBanking: CoreBanking }> {
  const bank = await startSimulatedCoreBank();
  const coreBanking = createHttpCoreBanking({ baseUrl: bank.url, timeoutMs: options.timeoutMs ?? 2_000, maxBatch: options.maxBatch ?? 200 });
  return { bank, coreBanking };
}

/**
 * Customers and accounts a test file creates, with everything they caused removed afterwards:
 * their own events (by user), and the service events of syncs and discoveries (by correlation).
 */
export class BankingFixtures {
  private readonly users: string[] = [];
  private readonly correlations: string[] = [];

  constructor(private readonly ctx: AppContext) {}

  /** A customer with contacts and one device, and `accounts` MWK accounts with unique numbers. */
  async customer(accounts = 1): Promise<{ userId: string; accountNumbers: string[] }> {
    const userId = `bank-${randomUUID()}`;
    this.users.push(userId);
    await this.ctx.pool.query(
      `INSERT INTO customers (user_id, email, phone, locale, time_zone) VALUES ($1, $2, '+265991234567', 'en', 'Africa/Blantyre')`,
      [userId, `${userId}@example.test`],
    );
    await this.ctx.pool.query(`INSERT INTO devices (user_id, token, platform) VALUES ($1, $2, 'android')`, [userId, `tok-${randomUUID()}`]);
    const accountNumbers = Array.from({ length: accounts }, () => uniqueAccountNumber());
    for (const n of accountNumbers) {
      await this.ctx.pool.query(`INSERT INTO accounts (account_number, owner_user_id, currency) VALUES ($1, $2, 'MWK')`, [n, userId]);
    }
    return { userId, accountNumbers };
  }

  /** A user id to register without creating anything: discovery creates the customer. */
  newUserId(): string {
    const userId = `bank-${randomUUID()}`;
    this.users.push(userId);
    return userId;
  }

  track(correlationId: string): void {
    this.correlations.push(correlationId);
  }

  async cleanup(): Promise<void> {
    await this.ctx.pool.query('DELETE FROM domain_events WHERE correlation_id = ANY($1::text[])', [this.correlations]);
    for (const userId of this.users) await deleteCustomer(this.ctx, userId);
  }
}

/** 16 digits, random: no two tests (or runs) share an account. */
export function uniqueAccountNumber(): string {
  return `9${String(Math.floor(Math.random() * 1e15)).padStart(15, '0')}`;
}

export interface EventRow {
  id: string;
  type: string;
  aggregate_id: string;
  payload: any;
  metadata: any;
}

export async function eventsWhere(ctx: AppContext, where: string, params: unknown[]): Promise<EventRow[]> {
  const { rows } = await ctx.pool.query<EventRow>(`SELECT id, type, aggregate_id, payload, metadata FROM domain_events WHERE ${where} ORDER BY stored_at, id`, params);
  return rows;
}

/** Alerts (account.balance.low, alert.triggered) about this account. */
export function alertsFor(ctx: AppContext, accountNumber: string): Promise<EventRow[]> {
  return eventsWhere(ctx, `type IN ('account.balance.low', 'alert.triggered') AND payload->>'accountNumber' = $1`, [accountNumber]);
}

export async function balanceOf(ctx: AppContext, accountNumber: string): Promise<string | null> {
  const { rows } = await ctx.pool.query<{ balance: string | null }>('SELECT balance::text AS balance FROM accounts WHERE account_number = $1', [accountNumber]);
  return rows[0]?.balance ?? null;
}

export async function addRule(ctx: AppContext, accountNumber: string, kind: string, threshold: string): Promise<string> {
  const { rows } = await ctx.pool.query<{ id: string }>(
    'INSERT INTO alert_rules (account_number, kind, threshold) VALUES ($1, $2, $3) RETURNING id',
    [accountNumber, kind, threshold],
  );
  return rows[0]!.id;
}

/**
 * The set-up the banking test files share: before the file, a test context and its fixtures
 * (handed to `ready`); after each test, whatever that test registered with the returned
 * function is closed, newest first; after the file, the fixtures are cleaned up and the
 * context closed.
 */
export function useBankingContext(ready: (ctx: AppContext, fixtures: BankingFixtures) => void): (close: () => Promise<unknown>) => void {
  let ctx: AppContext | undefined;
  let fixtures: BankingFixtures | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(() => {
    ctx = testContext();
    fixtures = new BankingFixtures(ctx);
    ready(ctx, fixtures);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(async () => {
    await fixtures?.cleanup();
    await ctx?.close();
  });
  return (close) => {
    closers.push(close);
  };
}
