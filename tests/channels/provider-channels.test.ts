import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { createProviderChannels, type ProviderChannels } from '../../lib/channels/provider-channels.js';
import { loadProviderConfig } from '../../lib/channels/provider-config.js';
import { ConfigError } from '../../lib/config.js';
import type { Notifier } from '../../lib/notifications/notifier.js';
import { createCustomer, deleteCustomer, deliveriesOf, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';

let ctx: AppContext;
let providers: ProviderChannels;
let notifier: Notifier;
let userId: string;

beforeAll(async () => {
  ctx = testContext();
  providers = await createProviderChannels(loadProviderConfig({}), ctx.logger);
  notifier = await startTestNotifier(ctx, providers.channels);
});
afterAll(async () => {
  await notifier.stop();
  await providers.close();
  if (userId) await deleteCustomer(ctx, userId);
  await ctx.close();
});

describe('the real adapters against their sandbox peers', () => {
  it('says which providers are sandboxed', () => {
    expect(providers.sandboxed).toEqual(['push', 'email', 'sms']);
    expect(providers.summary).toMatch(/push=sandbox\(fake FCM on 127\.0\.0\.1:\d+\) email=sandbox\(SMTP on 127\.0\.0\.1:\d+\) sms=sandbox/);
  });

  it('delivers an event on all three channels, each send carrying the delivery id as its idempotency mark', async () => {
    const customer = await createCustomer(ctx);
    userId = customer.userId;
    const event = transactionCompleted(customer);
    await ctx.bus.publish(event);
    const rows = await waitFor(async () => {
      const r = await deliveriesOf(ctx, event.id);
      return r.length === 3 && r.every((d) => d.status === 'SENT') && r;
    }, 15_000, 'three SENT deliveries');
    const byChannel = Object.fromEntries(rows.map((r) => [r.channel, r.id]));

    const [push] = providers.sinks.fcm!.sendsFor(byChannel.push!);
    expect(push?.message.android?.collapse_key).toBe(byChannel.push);
    const [mail] = providers.sinks.smtp!.acceptedFor(byChannel.email!);
    expect(mail?.messageId).toBe(`${byChannel.email}@herald.invalid`);
    expect(mail?.subject).toContain(`****${customer.accountNumber.slice(-4)}`);
    expect(providers.sinks.sms!.acceptedFor(byChannel.sms!)?.idempotencyKey).toBe(byChannel.sms);

    const stored = await ctx.pool.query('SELECT channel, provider_message_id FROM notification_deliveries WHERE id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
    expect(stored.rows.every((r) => typeof r.provider_message_id === 'string' && r.provider_message_id.length > 0)).toBe(true);
  });

  it('refuses malformed provider settings with the variable named', () => {
    expect(() => loadProviderConfig({ SMS_GATEWAY_URL: 'not a url' })).toThrow(ConfigError);
    expect(() => loadProviderConfig({ FCM_SERVICE_ACCOUNT_JSON: '{"project_id":1}' })).toThrow(/FCM_SERVICE_ACCOUNT_JSON: must be a service-account key/);
    expect(() => loadProviderConfig({ SMTP_HOST: 'mail', SMTP_USER: 'u' })).toThrow(/SMTP_PASS: is required when SMTP_USER is set/);
  });
});
