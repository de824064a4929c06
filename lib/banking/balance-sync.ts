import { randomUUID } from 'node:crypto';
import { withTransaction, type Pool } from '../db/pool.js';
import { prepared } from '../db/prepared.js';
import type { EventBus } from '../events/event-bus.js';
import type { StoredEvent } from '../events/stored-event.js';
import type { Logger } from '../logger.js';
import { evaluateBalanceRules, type SyncedBalance } from './balance-alerts.js';
import { isCoreBankingError, type CoreBalance, type CoreBanking } from './core-banking.js';
import { storeEvents } from './store-events.js';

export type SyncTrigger = 'schedule' | 'transaction' | 'manual';

export interface BalanceSyncOptions {
  pool: Pool;
  bus: EventBus;
  coreBanking: CoreBanking;
  logger: Logger;
  /**
   * After this many chunks in a row fail, the core bank is taken to be down: the run stops
   * asking and counts the accounts it did not reach as failed (default 3).
   */
  maxConsecutiveFailures?: number;
}

export interface SyncOutcome {
  syncId: string;
  trigger: SyncTrigger;
  accountsSynced: number;
  accountsFailed: number;
  durationMs: number;
  /** Balance alerts this run stored (account.balance.low, alert.triggered). */
  alerts: number;
}

const source = 'herald.balance-sync';

/**
 * One balance sync run: service.balance.sync.started, balances pulled from the core bank in
 * chunks of its maxBatch, each chunk stored and its balance rules evaluated in one
 * transaction, then service.balance.sync.completed with the counts. A chunk the core bank
 * fails on writes nothing and counts as failed; the next run (or the next hint) retries it.
 */
export class BalanceSync {
  constructor(private readonly options: BalanceSyncOptions) {}

  /**
   * All accounts (trigger 'schedule'), or only `accountNumbers`. Accounts Herald does not know
   * are left out; a targeted run with none it knows does nothing and returns null.
   */
  async run(trigger: SyncTrigger, accountNumbers?: string[]): Promise<SyncOutcome | null> {
    const started = Date.now();
    const targeted = accountNumbers ? await this.knownAccounts(accountNumbers) : undefined;
    if (targeted && targeted.length === 0) return null;

    const syncId = randomUUID();
    const meta = { correlationId: syncId, source };
    await this.options.bus.publish({
      type: 'service.balance.sync.started', aggregateType: 'service', aggregateId: syncId,
      // The started event lists a targeted run's accounts when they fit (at most 10,000).
      payload: { syncId, trigger, ...(targeted && targeted.length <= 10_000 ? { accountNumbers: targeted } : {}) },
      metadata: meta,
    });

    const outcome = { syncId, trigger, accountsSynced: 0, accountsFailed: 0, durationMs: 0, alerts: 0 };
    const maxFailures = this.options.maxConsecutiveFailures ?? 3;
    let failuresInARow = 0;
    let offset = 0;
    let last = '';
    for (;;) {
      const chunk = targeted ? targeted.slice(offset, offset + this.batch) : await this.nextChunk(last);
      if (chunk.length === 0) break;
      offset += chunk.length;
      last = chunk[chunk.length - 1]!;
      const result = await this.syncChunk(chunk, syncId);
      outcome.accountsSynced += result.synced;
      outcome.accountsFailed += chunk.length - result.synced;
      outcome.alerts += result.alerts;
      failuresInARow = result.failed ? failuresInARow + 1 : 0;
      if (failuresInARow >= maxFailures) {
        const rest = targeted ? targeted.length - offset : await this.countAfter(last);
        outcome.accountsFailed += rest;
        this.options.logger.warn({ syncId, notReached: rest }, 'core bank failing; balance sync stopped early, the next run retries');
        break;
      }
      if (chunk.length < this.batch) break;
    }

    outcome.durationMs = Date.now() - started;
    await this.options.bus.publish({
      type: 'service.balance.sync.completed', aggregateType: 'service', aggregateId: syncId,
      payload: { syncId, accountsSynced: outcome.accountsSynced, accountsFailed: outcome.accountsFailed, durationMs: outcome.durationMs, completedAt: new Date().toISOString() },
      metadata: meta,
    });
    return outcome;
  }

  private get batch(): number {
    return Math.max(1, this.options.coreBanking.maxBatch);
  }

  /** Asks the core bank, then writes what it answered. Postgres errors end the run; core-bank errors only fail the chunk. */
  private async syncChunk(chunk: string[], syncId: string): Promise<{ synced: number; alerts: number; failed: boolean }> {
    let balances: CoreBalance[];
    try {
      const wanted = new Set(chunk);
      balances = (await this.options.coreBanking.getBalances(chunk)).balances.filter((b) => wanted.delete(b.accountNumber));
    } catch (error) {
      if (!isCoreBankingError(error)) throw error;
      this.options.logger.warn({ syncId, code: error.code, accounts: chunk.length }, 'core bank failed a balance request; chunk counted as failed');
      return { synced: 0, alerts: 0, failed: true };
    }
    if (balances.length === 0) return { synced: 0, alerts: 0, failed: false };

    let fresh: StoredEvent[] = [];
    let stored = 0;
    await withTransaction(this.options.pool, async (client) => {
      // Rows locked in one order: a full sync and a transaction-triggered one sharing accounts
      // wait for each other instead of deadlocking.
      const locked = await client.query<{ account_number: string; currency: string }>(prepared('lock-balances',
        'SELECT account_number, currency FROM accounts WHERE account_number = ANY($1::text[]) ORDER BY account_number FOR UPDATE',
        [balances.map((b) => b.accountNumber)],
      ));
      // A balance in another currency than the account's is not that account's balance: it is
      // reported, never stored (the currency itself comes from account.created and discovery).
      const currencies = new Map(locked.rows.map((r) => [r.account_number, r.currency]));
      const matching = balances.filter((b) => currencies.get(b.accountNumber) === b.currency);
      const mismatched = balances.filter((b) => currencies.has(b.accountNumber) && currencies.get(b.accountNumber) !== b.currency);
      if (mismatched.length > 0) {
        this.options.logger.warn({ syncId, code: 'currency_mismatch', accounts: mismatched.map((b) => b.accountNumber) }, 'core bank balance in another currency than the account; not stored');
      }
      stored = matching.length;
      if (matching.length === 0) return;
      // A stored balance newer than this answer (a concurrent run read later) is kept.
      const { rows } = await client.query<{ account_number: string; balance: string; currency: string; owner_user_id: string }>(prepared('store-balances',
        `UPDATE accounts a SET balance = b.balance, balance_synced_at = b.as_of
           FROM jsonb_to_recordset($1::jsonb) AS b(account_number text, balance numeric, as_of timestamptz)
          WHERE a.account_number = b.account_number
            AND (a.balance_synced_at IS NULL OR a.balance_synced_at <= b.as_of)
          RETURNING a.account_number, a.balance::text AS balance, a.currency, a.owner_user_id`,
        [JSON.stringify(matching.map((b) => ({ account_number: b.accountNumber, balance: b.balance, as_of: b.asOf })))],
      ));
      const synced: SyncedBalance[] = rows.map((r) => ({ accountNumber: r.account_number, balance: r.balance, currency: r.currency, ownerUserId: r.owner_user_id }));
      fresh = await storeEvents(client, await evaluateBalanceRules(client, synced, syncId));
    });
    await this.options.bus.broadcast(fresh);
    return { synced: stored, alerts: fresh.length, failed: false };
  }

  private async knownAccounts(accountNumbers: string[]): Promise<string[]> {
    const { rows } = await this.options.pool.query<{ account_number: string }>(
      'SELECT account_number FROM accounts WHERE account_number = ANY($1::text[]) ORDER BY account_number',
      [[...new Set(accountNumbers)]],
    );
    return rows.map((r) => r.account_number);
  }

  private async nextChunk(after: string): Promise<string[]> {
    const { rows } = await this.options.pool.query<{ account_number: string }>(prepared('balance-sync-page',
      'SELECT account_number FROM accounts WHERE account_number > $1 ORDER BY account_number LIMIT $2',
      [after, this.batch],
    ));
    return rows.map((r) => r.account_number);
  }

  private async countAfter(after: string): Promise<number> {
    const { rows } = await this.options.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts WHERE account_number > $1', [after]);
    return rows[0]?.n ?? 0;
  }
}
