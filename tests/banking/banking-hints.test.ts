import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { AccountDiscovery } from '../../lib/banking/account-discovery.js';
import { BalanceSync } from '../../lib/banking/balance-sync.js';
import { startBankingHints } from '../../lib/banking/banking-hints.js';
import type { SimulatedCoreBank } from '../../lib/banking/sandbox/simulated-core-bank.js';
import { startScheduler } from '../../services/scheduler/scheduler-service.js';
import { testContext, transactionCompleted, waitFor } from '../support/harness.js';
import { balanceOf, BankingFixtures, eventsWhere, startBank, useBankingContext } from './support.js';

let ctx: AppContext;
let fixtures: BankingFixtures;
const closeAfterTest = useBankingContext((c, f) => {
  ctx = c;
  fixtures = f;
});

/** A scheduler instance's banking hints, on its own connections, against a simulated core bank. */
async function hints(bank: SimulatedCoreBank, coreBanking: Awaited<ReturnType<typeof startBank>>['coreBanking'], coalesceMs = 300) {
  const instance = testContext();
  const banking = { pool: instance.pool, bus: instance.bus, coreBanking, logger: instance.logger };
  const started = await startBankingHints({
    ...banking,
    redis: instance.redis,
    balanceSync: new BalanceSync(banking),
    discovery: new AccountDiscovery({ ...banking, retryMs: 60_000 }),
    coalesceMs,
  });
  closeAfterTest(async () => {
    await started.stop();
    await instance.close();
  });
  return started;
}

async function bank() {
  const started = await startBank();
  closeAfterTest(() => started.bank.close());
  return started;
}

/** Transaction-triggered sync runs that included this account. */
const syncRunsFor = (accountNumber: string) =>
  eventsWhere(ctx, `type = 'service.balance.sync.started' AND payload->>'trigger' = 'transaction' AND payload->'accountNumbers' ? $1`, [accountNumber]);

async function trackSyncs(accountNumbers: string[]) {
  for (const n of accountNumbers) for (const run of await syncRunsFor(n)) fixtures.track(run.payload.syncId);
}

describe('transaction.completed hints', () => {
  it('sync the account at once, several transactions within the window in one run', async () => {
    const { bank: core, coreBanking } = await bank();
    await hints(core, coreBanking);
    const { userId, accountNumbers } = await fixtures.customer(3);
    accountNumbers.forEach((n, i) => core.setBalance(n, `${i + 1}00.00`));

    // Five transactions on three accounts, all within the coalescing window.
    const targets = [accountNumbers[0]!, accountNumbers[1]!, accountNumbers[2]!, accountNumbers[0]!, accountNumbers[1]!];
    await Promise.all(targets.map((accountNumber) => ctx.bus.publish(transactionCompleted({ userId, accountNumber }))));

    await waitFor(async () => (await balanceOf(ctx, accountNumbers[2]!)) === '300.00', 10_000, 'the hinted sync');
    for (const [i, n] of accountNumbers.entries()) expect(await balanceOf(ctx, n)).toBe(`${i + 1}00.00`);
    const runs = await syncRunsFor(accountNumbers[0]!);
    await trackSyncs(accountNumbers);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.payload.accountNumbers).toEqual([...accountNumbers].sort());
    // One balance request for the three accounts.
    const asked = core.requests.filter((r) => r.accountNumbers?.some((n) => accountNumbers.includes(n)));
    expect(asked).toHaveLength(1);

    const completed = await waitFor(async () => (await eventsWhere(ctx, `type = 'service.balance.sync.completed' AND correlation_id = $1`, [runs[0]!.payload.syncId]))[0], 5_000, 'completed');
    expect(completed.payload).toMatchObject({ accountsSynced: 3, accountsFailed: 0 });
  });

  it('with two scheduler instances hearing the same hint, one of them syncs', async () => {
    const { bank: core, coreBanking } = await bank();
    await hints(core, coreBanking, 100);
    await hints(core, coreBanking, 100);
    const { userId, accountNumbers } = await fixtures.customer(1);
    core.setBalance(accountNumbers[0]!, '42.00');
    await ctx.bus.publish(transactionCompleted({ userId, accountNumber: accountNumbers[0]! }));
    await waitFor(async () => (await balanceOf(ctx, accountNumbers[0]!)) === '42.00', 10_000, 'the hinted sync');
    await new Promise((r) => setTimeout(r, 400));
    await trackSyncs(accountNumbers);
    expect(await syncRunsFor(accountNumbers[0]!)).toHaveLength(1);
  });
});

describe('user.registered hints', () => {
  it('discover the new customer’s accounts', async () => {
    const { bank: core, coreBanking } = await bank();
    await hints(core, coreBanking);
    const userId = fixtures.newUserId();
    await ctx.bus.publish({
      id: randomUUID(), type: 'user.registered', aggregateType: 'user', aggregateId: userId,
      payload: { userId, email: `${userId}@example.test` }, metadata: { userId, source: 'test' },
    });
    const expected = core.accountsOf(userId).map((a) => a.accountNumber).sort();
    const stored = await waitFor(async () => {
      const { rows } = await ctx.pool.query<{ account_number: string }>('SELECT account_number FROM accounts WHERE owner_user_id = $1 ORDER BY 1', [userId]);
      return rows.length === expected.length && rows.map((r) => r.account_number);
    }, 10_000, 'discovered accounts');
    expect(stored).toEqual(expected);
  });
});

describe('the scheduler service', () => {
  it('wires the banking flows: hints reach balance sync and account discovery', async () => {
    const { bank: core, coreBanking } = await bank();
    const instance = testContext({ BALANCE_SYNC_COALESCE_MS: '100' });
    const scheduler = await startScheduler(instance, { coreBanking, outboxSweep: '0 0 1 1 *' });
    closeAfterTest(async () => {
      await scheduler.stop();
      await instance.close();
    });
    const { userId, accountNumbers } = await fixtures.customer(1);
    core.setBalance(accountNumbers[0]!, '1.23');
    await ctx.bus.publish(transactionCompleted({ userId, accountNumber: accountNumbers[0]! }));
    await waitFor(async () => (await balanceOf(ctx, accountNumbers[0]!)) === '1.23', 10_000, 'the hinted sync');
    await trackSyncs(accountNumbers);

    const newcomer = fixtures.newUserId();
    await ctx.bus.publish({
      id: randomUUID(), type: 'user.registered', aggregateType: 'user', aggregateId: newcomer,
      payload: { userId: newcomer }, metadata: { userId: newcomer, source: 'test' },
    });
    await waitFor(async () => {
      const { rows } = await ctx.pool.query('SELECT accounts_discovered_at FROM customers WHERE user_id = $1', [newcomer]);
      return rows[0]?.accounts_discovered_at;
    }, 10_000, 'discovery of the newcomer');
  });
});
