import { randomUUID } from 'node:crypto';
import { withTransaction, type Pool } from '../db/pool.js';
import type { EventBus } from '../events/event-bus.js';
import type { StoredEvent } from '../events/stored-event.js';
import type { Logger } from '../logger.js';
import { isCoreBankingError, type CoreAccount, type CoreBanking } from './core-banking.js';
import { stableEventId } from './stable-id.js';
import { storeEvents } from './store-events.js';

export interface AccountDiscoveryOptions {
  pool: Pool;
  bus: EventBus;
  coreBanking: CoreBanking;
  logger: Logger;
  /**
   * The sweep leaves a customer this long to its user.registered hint, and waits this long
   * after a failed attempt before trying again.
   */
  retryMs: number;
  /** Customers per sweep pass (default 100). */
  sweepBatchSize?: number;
}

export interface DiscoveryOutcome {
  discovered: number;
  failed: number;
  /** Already discovered, or not reached because the core bank was down. */
  skipped: number;
  /** The core bank failed transiently: the rest of the batch was left for a later sweep. */
  bankDown: boolean;
}

/** Why discovery was asked for; recorded as the events' causation. */
export interface DiscoveryRequest {
  userId: string;
  causationId?: string;
}

const source = 'herald.account-discovery';

/**
 * user.registered → service.account.discovery.started → the core bank's accounts of the
 * customer → accounts upserted and customers.accounts_discovered_at set (one transaction, with
 * service.account.discovery.completed). The column is the durable record: hints make it fast,
 * the sweep finds every customer still NULL (a lost hint, a core-bank outage) and catches up.
 */
export class AccountDiscovery {
  constructor(private readonly options: AccountDiscoveryOptions) {}

  /**
   * Discovers these customers, skipping those already discovered. A transient core-bank error
   * (the bank is down or slow) stops the batch: the customers not reached wait for the sweep.
   */
  async discover(requests: DiscoveryRequest[]): Promise<DiscoveryOutcome> {
    const outcome = { discovered: 0, failed: 0, skipped: 0, bankDown: false };
    const unique = [...new Map(requests.map((r) => [r.userId, r])).values()];
    const { rows } = await this.options.pool.query<{ user_id: string }>(
      'SELECT user_id FROM customers WHERE user_id = ANY($1::text[]) AND accounts_discovered_at IS NOT NULL',
      [unique.map((r) => r.userId)],
    );
    const done = new Set(rows.map((r) => r.user_id));
    for (const [i, request] of unique.entries()) {
      if (done.has(request.userId)) {
        outcome.skipped++;
        continue;
      }
      const result = await this.discoverOne(request);
      if (result === 'discovered') outcome.discovered++;
      else outcome.failed++;
      if (result === 'bank_down') {
        outcome.bankDown = true;
        outcome.skipped += unique.length - i - 1;
        break;
      }
    }
    return outcome;
  }

  /** One sweep pass over customers still undiscovered; returns how many it took. */
  async sweep(): Promise<DiscoveryOutcome & { claimed: number }> {
    // Claiming stamps the attempt first, so a customer the core bank keeps failing on goes to
    // the back of the queue instead of blocking every pass.
    const { rows } = await this.options.pool.query<{ user_id: string }>(
      `UPDATE customers SET accounts_discovery_attempted_at = now()
        WHERE user_id IN (
          SELECT user_id FROM customers
           WHERE accounts_discovered_at IS NULL
             AND coalesce(accounts_discovery_attempted_at, created_at) <= now() - make_interval(secs => $1::double precision / 1000)
           ORDER BY accounts_discovery_attempted_at NULLS FIRST, created_at
           LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING user_id`,
      [this.options.retryMs, this.options.sweepBatchSize ?? 100],
    );
    const outcome = await this.discover(rows.map((r) => ({ userId: r.user_id })));
    return { ...outcome, claimed: rows.length };
  }

  /** Sweeps until a pass finds less than a full batch, or the core bank goes down. */
  async sweepAll(): Promise<DiscoveryOutcome & { claimed: number }> {
    const total = { discovered: 0, failed: 0, skipped: 0, bankDown: false, claimed: 0 };
    for (;;) {
      const pass = await this.sweep();
      total.discovered += pass.discovered;
      total.failed += pass.failed;
      total.skipped += pass.skipped;
      total.claimed += pass.claimed;
      total.bankDown = pass.bankDown;
      if (pass.bankDown || pass.claimed < (this.options.sweepBatchSize ?? 100)) return total;
    }
  }

  private async discoverOne(request: DiscoveryRequest): Promise<'discovered' | 'failed' | 'bank_down'> {
    const { userId } = request;
    const discoveryId = randomUUID();
    const metadata = { userId, correlationId: discoveryId, ...(request.causationId ? { causationId: request.causationId } : {}), source };
    // The customer row may not exist yet: the hint can beat the notifier's customer directory.
    await this.options.pool.query(
      `INSERT INTO customers (user_id, accounts_discovery_attempted_at) VALUES ($1, now())
       ON CONFLICT (user_id) DO UPDATE SET accounts_discovery_attempted_at = now()`,
      [userId],
    );
    await this.options.bus.publish({
      type: 'service.account.discovery.started', aggregateType: 'service', aggregateId: discoveryId,
      payload: { discoveryId, userId }, metadata,
    });

    let accounts: CoreAccount[];
    try {
      accounts = await this.options.coreBanking.listAccounts(userId);
    } catch (error) {
      if (!isCoreBankingError(error)) throw error;
      this.options.logger.warn({ userId, discoveryId, code: error.code }, 'account discovery failed; the sweep retries');
      return error.kind === 'transient' ? 'bank_down' : 'failed';
    }

    let fresh: StoredEvent[] = [];
    await withTransaction(this.options.pool, async (client) => {
      if (accounts.length > 0) {
        await client.query(
          `INSERT INTO accounts (account_number, owner_user_id, currency, product)
           SELECT account_number, $2, currency, product FROM jsonb_to_recordset($1::jsonb) AS x(account_number text, currency text, product text)
           ON CONFLICT (account_number) DO UPDATE SET owner_user_id = excluded.owner_user_id, currency = excluded.currency, product = excluded.product`,
          [JSON.stringify(accounts.map((a) => ({ account_number: a.accountNumber, currency: a.currency, product: a.product }))), userId],
        );
      }
      await client.query('UPDATE customers SET accounts_discovered_at = now() WHERE user_id = $1 AND accounts_discovered_at IS NULL', [userId]);
      // One completed event per customer, whoever finishes first (a hint racing the sweep).
      fresh = await storeEvents(client, [{
        id: stableEventId('account-discovery', userId),
        type: 'service.account.discovery.completed', aggregateType: 'service', aggregateId: discoveryId,
        payload: { discoveryId, userId, accountNumbers: accounts.map((a) => a.accountNumber).slice(0, 1_000) },
        metadata,
      }]);
    });
    await this.options.bus.broadcast(fresh);
    return 'discovered';
  }
}
