import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { BalanceSync } from '../../lib/banking/balance-sync.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import { deliveriesOf, startTestNotifier, transactionCompleted, waitFor } from '../support/harness.js';
import { addRule, alertsFor, BankingFixtures, startBank, useBankingContext } from './support.js';

let ctx: AppContext;
let fixtures: BankingFixtures;
const closeAfterTest = useBankingContext((c, f) => {
  ctx = c;
  fixtures = f;
});

async function notifier() {
  const channels = { push: new SandboxChannel('push'), email: new SandboxChannel('email'), sms: new SandboxChannel('sms') };
  const notifier = await startTestNotifier(ctx, channels);
  closeAfterTest(() => notifier.stop());
  return channels;
}

const sentOnEveryChannel = async (eventId: string) => {
  const rows = await deliveriesOf(ctx, eventId);
  return rows.length === 3 && rows.every((r) => r.status === 'SENT') && rows;
};

describe('alerts become notifications', () => {
  it('a debit over the limit: transaction.completed → alert.triggered → one SENT delivery per channel', async () => {
    const channels = await notifier();
    const { userId, accountNumbers } = await fixtures.customer(1);
    const [n] = accountNumbers as [string];
    await addRule(ctx, n, 'debit_over', '1000.00');
    await ctx.bus.publish(transactionCompleted({ userId, accountNumber: n }, { amount: '1250.00' }));

    const alert = await waitFor(async () => (await alertsFor(ctx, n))[0], 10_000, 'the debit alert');
    const rows = await waitFor(() => sentOnEveryChannel(alert.id), 10_000, 'the alert delivered on push, email and sms');
    for (const row of rows) expect(channels[row.channel as 'push'].timesSent(row.id)).toBe(1);
    const { rows: content } = await ctx.pool.query(
      `SELECT d.content FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.event_id = $1 AND d.channel = 'sms'`,
      [alert.id],
    );
    expect(JSON.stringify(content[0].content)).toContain(`****${n.slice(-4)}`);
    expect(JSON.stringify(content[0].content)).toContain('exceeded your limit');
  });

  it('a balance sync crossing a low-balance rule: account.balance.low → one SENT delivery per channel', async () => {
    await notifier();
    const { bank, coreBanking } = await startBank();
    try {
      const { accountNumbers } = await fixtures.customer(1);
      const [n] = accountNumbers as [string];
      await addRule(ctx, n, 'balance_below', '5000.00');
      bank.setBalance(n, '120.00');
      const outcome = await new BalanceSync({ pool: ctx.pool, bus: ctx.bus, coreBanking, logger: ctx.logger }).run('manual', [n]);
      fixtures.track(outcome!.syncId);
      const [alert] = await alertsFor(ctx, n);
      expect(alert!.type).toBe('account.balance.low');
      await waitFor(() => sentOnEveryChannel(alert!.id), 10_000, 'the low-balance alert delivered');
    } finally {
      await bank.close();
    }
  });
});
