import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { Channel } from '../../lib/channels/channel.js';
import { TransientDeliveryError } from '../../lib/channels/delivery-errors.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import { startSmtpSink, type SmtpSink } from '../../lib/channels/sandbox/smtp-sink.js';
import { createOperatorAlerts } from '../../lib/notifications/operator-alerts.js';
import { createCustomer, deleteCustomer, deliveriesOf, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';

let ctx: AppContext;
let sink: SmtpSink;
const users: string[] = [];
beforeAll(async () => {
  ctx = testContext();
  sink = await startSmtpSink();
});
afterAll(async () => {
  for (const u of users) await deleteCustomer(ctx, u);
  await sink.close();
  await ctx.close();
});

describe('operator alerts', () => {
  it('email the operations address when deliveries are dead-lettered, one email per kind per window', async () => {
    const alerts = createOperatorAlerts({
      logger: ctx.logger,
      email: { to: 'ops@bank.example', from: 'herald@bank.example', smtp: { host: '127.0.0.1', port: sink.port } },
      emailIntervalMs: 60_000,
    });
    const inner = new SandboxChannel('sms');
    const brokenSms: Channel<'sms'> = {
      name: 'sms',
      canReach: (r) => inner.canReach(r),
      classify: (e) => inner.classify(e),
      send: async () => {
        throw new TransientDeliveryError('gateway_busy', 'gateway busy');
      },
    };
    const notifier = await startTestNotifier(ctx, { push: new SandboxChannel('push'), email: new SandboxChannel('email'), sms: brokenSms }, undefined, { alerts });
    try {
      const c = await createCustomer(ctx);
      users.push(c.userId);
      const events = [transactionCompleted(c), transactionCompleted(c)];
      for (const e of events) await ctx.bus.publish(e);
      for (const e of events) {
        await waitFor(async () => (await deliveriesOf(ctx, e.id)).some((d) => d.channel === 'sms' && d.status === 'DEAD_LETTERED'), 15_000, 'dead letter');
      }
      const mail = await waitFor(async () => sink.messages.find((m) => m.to.includes('ops@bank.example')), 5_000, 'the alert email');
      expect(mail.subject).toBe('[Herald] sms delivery dead-lettered after its last attempt');
      await new Promise((r) => setTimeout(r, 300));
      // Two dead letters inside one window: one email, the second only logged.
      expect(sink.messages.filter((m) => m.to.includes('ops@bank.example'))).toHaveLength(1);
    } finally {
      await notifier.stop();
      await alerts.close();
    }
  });
});
