import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { AccountDiscovery } from '../../lib/banking/account-discovery.js';
import { BankingFixtures, eventsWhere, startBank, useBankingContext } from './support.js';

let ctx: AppContext;
let fixtures: BankingFixtures;

const closeAfterTest = useBankingContext((c, f) => {
  ctx = c;
  fixtures = f;
});

async function setup(retryMs = 0) {
  const { bank, coreBanking } = await startBank({ timeoutMs: 1_000 });
  // A test may have closed its bank already (an outage drill).
  closeAfterTest(() => bank.close().catch(() => {}));
  return { bank, discovery: new AccountDiscovery({ pool: ctx.pool, bus: ctx.bus, coreBanking, logger: ctx.logger, retryMs }) };
}

async function customerState(userId: string) {
  const { rows } = await ctx.pool.query('SELECT accounts_discovered_at, accounts_discovery_attempted_at FROM customers WHERE user_id = $1', [userId]);
  return rows[0];
}

async function accountsOf(userId: string) {
  const { rows } = await ctx.pool.query(
    'SELECT account_number AS "accountNumber", currency, product FROM accounts WHERE owner_user_id = $1 ORDER BY account_number',
    [userId],
  );
  return rows;
}

const discoveryEvents = (userId: string) => eventsWhere(ctx, `type LIKE 'service.account.discovery.%' AND user_id = $1`, [userId]);

/** Sweeps until this customer is done: other customers in the shared database may come first. */
async function sweepUntilDiscovered(discovery: AccountDiscovery, userId: string) {
  for (let pass = 0; pass < 50; pass++) {
    const outcome = await discovery.sweep();
    if ((await customerState(userId))?.accounts_discovered_at) return;
    if (outcome.claimed === 0 || outcome.bankDown) return;
  }
}

describe('account discovery', () => {
  it('stores the accounts the core bank holds for the customer, with started and completed events', async () => {
    const { bank, discovery } = await setup();
    const userId = fixtures.newUserId();
    const expected = bank.accountsOf(userId).map(({ accountNumber, currency, product }) => ({ accountNumber, currency, product }));

    expect(await discovery.discover([{ userId, causationId: 'evt-1' }])).toEqual({ discovered: 1, failed: 0, skipped: 0, bankDown: false });
    expect(await accountsOf(userId)).toEqual(expected.sort((a, b) => a.accountNumber.localeCompare(b.accountNumber)));
    expect((await customerState(userId)).accounts_discovered_at).toBeInstanceOf(Date);

    const events = await discoveryEvents(userId);
    expect(events.map((e) => e.type)).toEqual(['service.account.discovery.started', 'service.account.discovery.completed']);
    const discoveryId = events[0]!.payload.discoveryId;
    expect(events[0]!.payload).toEqual({ discoveryId, userId });
    expect(events[1]!.payload).toEqual({ discoveryId, userId, accountNumbers: bank.accountsOf(userId).map((a) => a.accountNumber) });
    expect(events[1]!.metadata).toMatchObject({ userId, correlationId: discoveryId, causationId: 'evt-1' });

    // A second hint for the same customer does nothing.
    expect(await discovery.discover([{ userId }])).toMatchObject({ discovered: 0, skipped: 1 });
    expect(await discoveryEvents(userId)).toHaveLength(2);
  });

  it('updates an account Herald already had, and keeps the customer details the directory stored', async () => {
    const { bank, discovery } = await setup();
    const { userId, accountNumbers } = await fixtures.customer(1);
    bank.openAccount({ accountNumber: accountNumbers[0]!, ownerUserId: userId, currency: 'USD', product: 'savings' });
    await discovery.discover([{ userId }]);
    expect(await accountsOf(userId)).toEqual([{ accountNumber: accountNumbers[0], currency: 'USD', product: 'savings' }]);
    const { rows } = await ctx.pool.query('SELECT email FROM customers WHERE user_id = $1', [userId]);
    expect(rows[0].email).toBe(`${userId}@example.test`);
  });

  it('a customer whose hint was lost is caught up by the sweep', async () => {
    const { bank, discovery } = await setup();
    // Registered (the directory stored the customer) but no hint ever reached discovery.
    const { userId } = await fixtures.customer(0);
    expect((await customerState(userId)).accounts_discovered_at).toBeNull();

    await sweepUntilDiscovered(discovery, userId);
    expect((await customerState(userId)).accounts_discovered_at).toBeInstanceOf(Date);
    expect((await accountsOf(userId)).map((a: { accountNumber: string }) => a.accountNumber)).toEqual(bank.accountsOf(userId).map((a) => a.accountNumber).sort());
  });

  it('the sweep leaves a customer to its hint for the grace period', async () => {
    const { discovery } = await setup(60_000);
    const { userId } = await fixtures.customer(0);
    await discovery.sweep();
    expect(await customerState(userId)).toEqual({ accounts_discovered_at: null, accounts_discovery_attempted_at: null });
  });

  it('a core-bank outage leaves the customer undiscovered; the next sweep catches up', async () => {
    const { bank, discovery } = await setup();
    const userId = fixtures.newUserId();
    bank.setReply({ status: 503 });
    expect(await discovery.discover([{ userId }, { userId: fixtures.newUserId() }])).toEqual({ discovered: 0, failed: 1, skipped: 1, bankDown: true });
    const state = await customerState(userId);
    expect(state.accounts_discovered_at).toBeNull();
    expect(state.accounts_discovery_attempted_at).toBeInstanceOf(Date);
    expect(await accountsOf(userId)).toEqual([]);
    expect((await discoveryEvents(userId)).map((e) => e.type)).toEqual(['service.account.discovery.started']);

    bank.reset();
    await sweepUntilDiscovered(discovery, userId);
    expect((await customerState(userId)).accounts_discovered_at).toBeInstanceOf(Date);
    expect(await accountsOf(userId)).toHaveLength(bank.accountsOf(userId).length);
    expect((await discoveryEvents(userId)).map((e) => e.type)).toEqual([
      'service.account.discovery.started', 'service.account.discovery.started', 'service.account.discovery.completed',
    ]);
  });

  it('a customer the core bank refuses does not stop the others', async () => {
    const { bank, discovery } = await setup();
    const [refused, fine] = [fixtures.newUserId(), fixtures.newUserId()];
    bank.replyNext({ status: 404, body: { code: 'customer_not_found' } });
    expect(await discovery.discover([{ userId: refused }, { userId: fine }])).toEqual({ discovered: 1, failed: 1, skipped: 0, bankDown: false });
    expect((await customerState(refused)).accounts_discovered_at).toBeNull();
    expect((await customerState(fine)).accounts_discovered_at).toBeInstanceOf(Date);
  });
});
