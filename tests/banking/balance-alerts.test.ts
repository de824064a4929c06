import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { BalanceSync } from '../../lib/banking/balance-sync.js';
import type { SimulatedCoreBank } from '../../lib/banking/sandbox/simulated-core-bank.js';
import { stableEventId } from '../../lib/banking/stable-id.js';
import { testContext } from '../support/harness.js';
import { addRule, alertsFor, BankingFixtures, startBank } from './support.js';

let ctx: AppContext;
let fixtures: BankingFixtures;
let bank: SimulatedCoreBank;
let sync: BalanceSync;

beforeAll(async () => {
  ctx = testContext();
  fixtures = new BankingFixtures(ctx);
  const started = await startBank();
  bank = started.bank;
  sync = new BalanceSync({ pool: ctx.pool, bus: ctx.bus, coreBanking: started.coreBanking, logger: ctx.logger });
});
afterAll(async () => {
  await bank.close();
  await fixtures.cleanup();
  await ctx.close();
});

async function syncAt(accountNumber: string, balance: string) {
  bank.setBalance(accountNumber, balance);
  const outcome = await sync.run('manual', [accountNumber]);
  fixtures.track(outcome!.syncId);
  return outcome!;
}

async function ruleState(id: string) {
  const { rows } = await ctx.pool.query('SELECT state, fired_count FROM alert_rules WHERE id = $1', [id]);
  return rows[0];
}

describe('balance alert rules', () => {
  it('balance_below fires account.balance.low once on crossing, stays quiet while low, fires again after re-arming', async () => {
    const { userId, accountNumbers } = await fixtures.customer(1);
    const [n] = accountNumbers as [string];
    const rule = await addRule(ctx, n, 'balance_below', '5000.00');

    await syncAt(n, '10000.00');
    expect(await alertsFor(ctx, n)).toEqual([]);

    const crossing = await syncAt(n, '3000.00');
    expect(crossing.alerts).toBe(1);
    let alerts = await alertsFor(ctx, n);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      id: stableEventId('balance-rule', rule, '1'),
      type: 'account.balance.low',
      aggregate_id: n,
      payload: { accountNumber: n, balance: '3000.00', threshold: '5000.00', currency: 'MWK' },
      metadata: { userId, correlationId: crossing.syncId, source: 'herald.alert-rules' },
    });
    expect(await ruleState(rule)).toEqual({ state: 'fired', fired_count: 1 });

    // Still low on the next syncs: nothing new.
    await syncAt(n, '3000.00');
    await syncAt(n, '2500.00');
    expect(await alertsFor(ctx, n)).toHaveLength(1);

    // Back above: re-armed, no alert.
    await syncAt(n, '6000.00');
    expect(await ruleState(rule)).toEqual({ state: 'armed', fired_count: 1 });
    expect(await alertsFor(ctx, n)).toHaveLength(1);

    await syncAt(n, '100.00');
    alerts = await alertsFor(ctx, n);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ id: stableEventId('balance-rule', rule, '2'), payload: { balance: '100.00' } });
  });

  it('a balance exactly at the threshold is not below it', async () => {
    const { accountNumbers } = await fixtures.customer(1);
    const [n] = accountNumbers as [string];
    await addRule(ctx, n, 'balance_below', '5000.00');
    await syncAt(n, '5000.00');
    expect(await alertsFor(ctx, n)).toEqual([]);
    await syncAt(n, '4999.99');
    expect(await alertsFor(ctx, n)).toHaveLength(1);
  });

  it('balance_above fires alert.triggered, edge-triggered too', async () => {
    const { accountNumbers } = await fixtures.customer(1);
    const [n] = accountNumbers as [string];
    const rule = await addRule(ctx, n, 'balance_above', '1000000.00');
    await syncAt(n, '1500000.00');
    await syncAt(n, '1600000.00');
    const alerts = await alertsFor(ctx, n);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      type: 'alert.triggered',
      aggregate_id: rule,
      payload: { alertId: rule, accountNumber: n, rule: 'balance_above', value: '1500000.00', threshold: '1000000.00', currency: 'MWK' },
    });
  });

  it('two syncs of the same balance at once store one alert', async () => {
    const { accountNumbers } = await fixtures.customer(1);
    const [n] = accountNumbers as [string];
    await addRule(ctx, n, 'balance_below', '50.00');
    bank.setBalance(n, '10.00');
    const outcomes = await Promise.all([sync.run('manual', [n]), sync.run('manual', [n]), sync.run('transaction', [n])]);
    for (const o of outcomes) fixtures.track(o!.syncId);
    expect(outcomes.reduce((sum, o) => sum + o!.alerts, 0)).toBe(1);
    expect(await alertsFor(ctx, n)).toHaveLength(1);
  });

  it('rules of one account do not fire for another, and several rules on one account each fire once', async () => {
    const { accountNumbers } = await fixtures.customer(2);
    const [a, b] = accountNumbers as [string, string];
    await addRule(ctx, a, 'balance_below', '100.00');
    await addRule(ctx, a, 'balance_below', '1000.00');
    await addRule(ctx, a, 'debit_over', '1.00');
    bank.setBalance(a, '50.00');
    bank.setBalance(b, '50.00');
    const outcome = await sync.run('manual', [a, b]);
    fixtures.track(outcome!.syncId);
    const alerts = await alertsFor(ctx, a);
    expect(alerts.map((x) => x.payload.threshold).sort()).toEqual(['100.00', '1000.00']);
    expect(await alertsFor(ctx, b)).toEqual([]);
  });
});
