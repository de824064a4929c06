import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { BalanceSync } from '../../lib/banking/balance-sync.js';
import { balanceOf, BankingFixtures, eventsWhere, startBank, useBankingContext } from './support.js';

let ctx: AppContext;
let fixtures: BankingFixtures;

const closeAfterTest = useBankingContext((c, f) => {
  ctx = c;
  fixtures = f;
});

async function setup(options: { maxBatch?: number; maxConsecutiveFailures?: number } = {}) {
  const { bank, coreBanking } = await startBank({ maxBatch: options.maxBatch, timeoutMs: 1_000 });
  // A test may have closed its bank already (an outage drill).
  closeAfterTest(() => bank.close().catch(() => {}));
  const sync = new BalanceSync({ pool: ctx.pool, bus: ctx.bus, coreBanking, logger: ctx.logger, maxConsecutiveFailures: options.maxConsecutiveFailures });
  const run = async (...args: Parameters<BalanceSync['run']>) => {
    const outcome = await sync.run(...args);
    if (outcome) fixtures.track(outcome.syncId);
    return outcome!;
  };
  return { bank, run };
}

const syncEvents = (syncId: string) => eventsWhere(ctx, 'correlation_id = $1', [syncId]);

describe('balance sync', () => {
  it('stores the core bank balances and publishes started and completed with the counts', async () => {
    const { bank, run } = await setup();
    const { userId, accountNumbers } = await fixtures.customer(3);
    const balances = ['1500.00', '-20.50', '987654.32'];
    accountNumbers.forEach((n, i) => bank.setBalance(n, balances[i]!));

    const before = Date.now();
    const outcome = await run('manual', accountNumbers);
    expect(outcome).toMatchObject({ trigger: 'manual', accountsSynced: 3, accountsFailed: 0, alerts: 0 });
    for (const [i, n] of accountNumbers.entries()) expect(await balanceOf(ctx, n)).toBe(balances[i]);
    const synced = await ctx.pool.query('SELECT balance_synced_at FROM accounts WHERE owner_user_id = $1', [userId]);
    for (const row of synced.rows) expect(row.balance_synced_at.getTime()).toBeGreaterThanOrEqual(before - 1_000);

    const events = await syncEvents(outcome.syncId);
    expect(events.map((e) => e.type)).toEqual(['service.balance.sync.started', 'service.balance.sync.completed']);
    expect(events[0]!.payload).toEqual({ syncId: outcome.syncId, trigger: 'manual', accountNumbers: [...accountNumbers].sort() });
    expect(events[1]!.payload).toEqual({
      syncId: outcome.syncId, accountsSynced: 3, accountsFailed: 0, durationMs: outcome.durationMs, completedAt: expect.any(String),
    });
  });

  it('a scheduled run covers every account, in chunks of the core bank batch size', async () => {
    const { bank, run } = await setup({ maxBatch: 50 });
    const { accountNumbers } = await fixtures.customer(2);
    bank.setBalance(accountNumbers[0]!, '11.00');
    bank.setBalance(accountNumbers[1]!, '22.00');

    const outcome = await run('schedule');
    expect(await balanceOf(ctx, accountNumbers[0]!)).toBe('11.00');
    expect(await balanceOf(ctx, accountNumbers[1]!)).toBe('22.00');
    // Other files' accounts may come and go meanwhile; ours are in, and nothing failed.
    expect(outcome.accountsFailed).toBe(0);
    expect(outcome.accountsSynced).toBeGreaterThanOrEqual(2);
    const requests = bank.requests.filter((r) => r.path === '/balances');
    expect(requests.every((r) => r.accountNumbers!.length <= 50)).toBe(true);
    expect(requests.length).toBe(Math.ceil(outcome.accountsSynced / 50));

    const [started] = await syncEvents(outcome.syncId);
    expect(started!.payload).toEqual({ syncId: outcome.syncId, trigger: 'schedule' });
  });

  it('a core bank that is down fails the run without writing anything, and says so in completed', async () => {
    const { bank, run } = await setup();
    const { accountNumbers } = await fixtures.customer(2);
    accountNumbers.forEach((n) => bank.setBalance(n, '100.00'));
    await run('manual', accountNumbers);
    accountNumbers.forEach((n) => bank.setBalance(n, '5.00'));

    bank.setReply({ status: 503 });
    const outage = await run('manual', accountNumbers);
    expect(outage).toMatchObject({ accountsSynced: 0, accountsFailed: 2 });
    for (const n of accountNumbers) expect(await balanceOf(ctx, n)).toBe('100.00');
    const [, completed] = await syncEvents(outage.syncId);
    expect(completed!.payload).toMatchObject({ accountsSynced: 0, accountsFailed: 2 });

    await bank.close();
    const stopped = await run('manual', accountNumbers);
    expect(stopped).toMatchObject({ accountsSynced: 0, accountsFailed: 2 });
    for (const n of accountNumbers) expect(await balanceOf(ctx, n)).toBe('100.00');
  });

  it('a failed chunk writes nothing while the chunks around it are stored', async () => {
    const { bank, run } = await setup({ maxBatch: 2 });
    const { accountNumbers } = await fixtures.customer(5);
    accountNumbers.forEach((n) => bank.setBalance(n, '77.00'));
    // The sync asks in account-number order: the first chunk fails.
    const ordered = [...accountNumbers].sort();
    bank.replyNext({ status: 500 });

    const outcome = await run('manual', accountNumbers);
    expect(outcome).toMatchObject({ accountsSynced: 3, accountsFailed: 2 });
    expect(await balanceOf(ctx, ordered[0]!)).toBeNull();
    expect(await balanceOf(ctx, ordered[1]!)).toBeNull();
    for (const n of ordered.slice(2)) expect(await balanceOf(ctx, n)).toBe('77.00');
  });

  it('stops asking after consecutive failed chunks and counts the rest as failed', async () => {
    const { bank, run } = await setup({ maxBatch: 1, maxConsecutiveFailures: 2 });
    const { accountNumbers } = await fixtures.customer(5);
    bank.setReply({ status: 503 });
    const outcome = await run('manual', accountNumbers);
    expect(outcome).toMatchObject({ accountsSynced: 0, accountsFailed: 5 });
    expect(bank.requests.filter((r) => r.path === '/balances')).toHaveLength(2);
  });

  it('accounts the core bank does not know count as failed; accounts Herald does not know are not asked for', async () => {
    const { bank, run } = await setup();
    const { accountNumbers } = await fixtures.customer(2);
    bank.closeAccount(accountNumbers[1]!);
    const outcome = await run('manual', [...accountNumbers, '123456789']);
    expect(outcome).toMatchObject({ accountsSynced: 1, accountsFailed: 1 });
    expect(bank.requests.at(-1)!.accountNumbers).toEqual([...accountNumbers].sort());
    expect(await run('manual', ['123456789'])).toBeNull();
  });

  it('a balance in another currency than the account is not stored, and counts as failed', async () => {
    const { bank, run } = await setup();
    const { userId, accountNumbers } = await fixtures.customer(2);
    bank.openAccount({ accountNumber: accountNumbers[0]!, ownerUserId: userId, currency: 'USD', balance: '5.00' });
    bank.setBalance(accountNumbers[1]!, '6.00');
    const outcome = await run('manual', accountNumbers);
    expect(outcome).toMatchObject({ accountsSynced: 1, accountsFailed: 1 });
    expect(await balanceOf(ctx, accountNumbers[0]!)).toBeNull();
    expect(await balanceOf(ctx, accountNumbers[1]!)).toBe('6.00');
  });

  it('never overwrites a balance with an older answer', async () => {
    const { bank, run } = await setup();
    const { accountNumbers } = await fixtures.customer(1);
    const [n] = accountNumbers as [string];
    bank.setBalance(n, '10.00');
    await run('manual', [n]);
    // A later balance is already stored (another run read it after this one would).
    await ctx.pool.query(`UPDATE accounts SET balance = 999, balance_synced_at = now() + interval '1 hour' WHERE account_number = $1`, [n]);
    const outcome = await run('manual', [n]);
    expect(outcome.accountsSynced).toBe(1);
    expect(await balanceOf(ctx, n)).toBe('999.00');
  });
});
