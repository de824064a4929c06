import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { Channel, OutboundMessage } from '../../lib/channels/channel.js';
import { createChannelHealth, type ChannelPause } from '../../lib/channels/channel-health.js';
import { ChannelConfigurationError } from '../../lib/channels/delivery-errors.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import { createCustomer, deleteCustomer, deliveriesOf, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';

let ctx: AppContext;
const users: string[] = [];
beforeAll(() => {
  ctx = testContext();
});
afterAll(async () => {
  for (const u of users) await deleteCustomer(ctx, u);
  await ctx.close();
});

describe('configuration errors', () => {
  it('pause the channel, alert once, keep the attempt budget, and resume after the pause', async () => {
    const inner = new SandboxChannel('sms');
    let rejectCredentials = true;
    let providerCalls = 0;
    const sms: Channel<'sms'> = {
      name: 'sms',
      canReach: (r) => inner.canReach(r),
      classify: (e) => inner.classify(e),
      async send(message: OutboundMessage<'sms'>) {
        providerCalls++;
        if (rejectCredentials) throw new ChannelConfigurationError('gateway_auth', 'gateway refused our credentials');
        return inner.send(message);
      },
    };
    const alerts: ChannelPause[] = [];
    const health = createChannelHealth({ pauseMs: 700, onPause: (p) => void alerts.push(p) });
    const notifier = await startTestNotifier(ctx, { push: new SandboxChannel('push'), email: new SandboxChannel('email'), sms }, undefined, { health });
    try {
      const c = await createCustomer(ctx);
      users.push(c.userId);
      const events = [transactionCompleted(c), transactionCompleted(c), transactionCompleted(c)];
      for (const e of events) await ctx.bus.publish(e);

      await waitFor(async () => health.isPaused('sms'), 5_000, 'the pause');
      const callsWhilePaused = providerCalls;
      rejectCredentials = false; // the operator fixes the credentials
      await new Promise((r) => setTimeout(r, 300));
      // Paused: nothing more was handed to the provider while the pause lasted.
      expect(providerCalls).toBe(callsWhilePaused);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ channel: 'sms', code: 'gateway_auth' });

      for (const e of events) {
        const sms = await waitFor(async () => (await deliveriesOf(ctx, e.id)).find((d) => d.channel === 'sms' && d.status === 'SENT'), 15_000, 'sms sent after the pause');
        expect(inner.timesSent(sms.id)).toBe(1);
        const history = await ctx.pool.query('SELECT status, error_code FROM notification_history WHERE delivery_id = $1 ORDER BY id', [sms.id]);
        expect(history.rows.at(-1)).toEqual({ status: 'SENT', error_code: null });
        // Configuration failures did not use up the delivery's attempts.
        expect(sms.attempts).toBe(1);
      }
    } finally {
      await notifier.stop();
    }
  });
});
