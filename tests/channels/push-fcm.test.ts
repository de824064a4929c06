import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFcmPushChannel, FcmTransientError } from '../../lib/channels/push-fcm.js';
import { ChannelConfigurationError, PermanentDeliveryError, TransientDeliveryError } from '../../lib/channels/delivery-errors.js';
import { fcmErrors, fcmSandboxOptions, sandboxServiceAccount, startFakeFcmServer, type FakeFcmServer } from '../../lib/channels/sandbox/fake-fcm-server.js';
import { onlyLoopback, outbound, rejectionOf } from './support.js';

onlyLoopback();

let fake: FakeFcmServer;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  fake = await startFakeFcmServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());
afterEach(async () => {
  await Promise.all(opened.splice(0).map((channel) => channel.close()));
});

/** The real SDK, routed to the fake through its httpAgent, with the fake's token source. */
function channel() {
  const push = createFcmPushChannel(fcmSandboxOptions(fake, 'herald-test'));
  opened.push(push);
  return push;
}

const push = (deviceTokens: string[], extra = {}) =>
  outbound<'push'>({ title: 'Card payment', body: 'EUR 12.30 at Bakery', data: { kind: 'card' } }, { deviceTokens }, extra);

describe('FCM push channel', () => {
  it('sends to every device, marks each copy with the delivery id and reports a dead token', async () => {
    fake.failToken('tok-dead', fcmErrors.unregistered());
    const message = push(['tok-phone', 'tok-dead', 'tok-tablet']);

    const result = await channel().send(message);

    expect(result.deadTokens).toEqual(['tok-dead']);
    expect(result.providerMessageId).toMatch(/^projects\/herald-test\/messages\//);
    expect(result.response).toMatchObject({ devices: 3, successCount: 2, failureCount: 1, deadTokenCount: 1 });
    expect(JSON.stringify(result.response)).not.toMatch(/tok-/);
    const sends = fake.sendsFor(message.deliveryId);
    expect(sends.map((s) => s.token).sort()).toEqual(['tok-phone', 'tok-tablet']);
    for (const { message: sent } of sends) {
      expect(sent.data).toEqual({ kind: 'card', deliveryId: message.deliveryId });
      expect(sent.android.collapse_key).toBe(message.deliveryId);
      expect(sent.android.notification.tag).toBe(message.deliveryId);
      expect(sent.apns.headers['apns-collapse-id']).toBe(message.deliveryId);
      expect(sent.webpush.notification.tag).toBe(message.deliveryId);
    }
  });

  it('fails permanently with the dead tokens when every token is dead', async () => {
    fake.failToken('tok-gone', fcmErrors.unregistered());
    fake.failToken('tok-garbage', fcmErrors.invalidToken());

    const error = await rejectionOf(channel().send(push(['tok-gone', 'tok-garbage'])));

    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe('fcm_tokens_unregistered');
    expect(error.deadTokens.sort()).toEqual(['tok-garbage', 'tok-gone']);
  });

  it('does not drop a device over INVALID_ARGUMENT that may be the payload’s fault', async () => {
    fake.failToken('tok-a', fcmErrors.invalidPayload());

    const error = await rejectionOf(channel().send(push(['tok-a'])));

    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe('fcm_invalid_argument');
    expect(error.deadTokens).toBeUndefined();
  });

  it('treats INVALID_ARGUMENT as a dead token once FCM accepted the same payload elsewhere', async () => {
    fake.failToken('tok-bad', fcmErrors.invalidPayload());

    const result = await channel().send(push(['tok-ok', 'tok-bad']));

    expect(result.deadTokens).toEqual(['tok-bad']);
  });

  it('classifies UNAVAILABLE as transient and lets firebase-admin try only once', async () => {
    fake.failNext(fcmErrors.unavailable());
    const message = push(['tok-1']);

    const error = await rejectionOf(channel().send(message));

    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('fcm_unavailable');
    expect(error.retryAfterMs).toBeUndefined();
    // firebase-admin's default would POST up to 4 more times on 503.
    expect(fake.attemptsFor(message.deliveryId)).toBe(1);
  });

  it('does not let firebase-admin resend after a connection reset', async () => {
    fake.failNext('reset');
    const message = push(['tok-1']);

    const error = await rejectionOf(channel().send(message));

    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('fcm_network_error');
    expect(fake.attemptsFor(message.deliveryId)).toBe(1);
  });

  it('classifies INTERNAL as transient', async () => {
    fake.failNext(fcmErrors.internal());
    const error = await rejectionOf(channel().send(push(['tok-1'])));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('fcm_internal_error');
  });

  it('waits at least a minute after QUOTA_EXCEEDED', async () => {
    fake.failNext(fcmErrors.quotaExceeded());
    const error = await rejectionOf(channel().send(push(['tok-1'])));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('fcm_rate_limited');
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(60_000);
  });

  it('retries a mixed failure and still hands back the dead tokens', async () => {
    fake.failToken('tok-dead', fcmErrors.unregistered());
    fake.failToken('tok-busy', fcmErrors.unavailable());

    const error = await rejectionOf(channel().send(push(['tok-dead', 'tok-busy'])));

    expect(error).toBeInstanceOf(FcmTransientError);
    expect(error.deadTokens).toEqual(['tok-dead']);
  });

  it.each([
    ['SENDER_ID_MISMATCH', fcmErrors.senderIdMismatch, 'fcm_sender_mismatch'],
    ['THIRD_PARTY_AUTH_ERROR', fcmErrors.thirdPartyAuth, 'fcm_auth_rejected'],
  ])('treats %s as a configuration error', async (_name, reply, code) => {
    fake.failNext(reply());
    const error = await rejectionOf(channel().send(push(['tok-1'])));
    expect(error).toBeInstanceOf(ChannelConfigurationError);
    expect(error.code).toBe(code);
  });

  it('treats a revoked access token (401 from FCM) as a configuration error', async () => {
    const push1 = channel();
    await push1.send(push(['tok-1']));
    fake.revokeAccessTokens();

    const error = await rejectionOf(push1.send(push(['tok-1'])));

    expect(error).toBeInstanceOf(ChannelConfigurationError);
    expect(error.code).toBe('fcm_auth_rejected');
  });

  it('treats a refused service-account key as a configuration error', async () => {
    fake.rejectCredentials();
    const error = await rejectionOf(channel().send(push(['tok-1'])));
    expect(error).toBeInstanceOf(ChannelConfigurationError);
    expect(error.code).toBe('fcm_invalid_credential');
  });

  it('retries when the token endpoint is down rather than pausing the channel', async () => {
    fake.rejectCredentials({ status: 503, error: 'unavailable', error_description: 'try later' });
    const error = await rejectionOf(channel().send(push(['tok-1'])));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('fcm_auth_unavailable');
  });

  it('gives up waiting when the caller’s signal fires', async () => {
    fake.failNext('hang');
    const started = Date.now();

    const error = await rejectionOf(channel().send(push(['tok-1']), AbortSignal.timeout(200)));

    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('fcm_timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('needs a device token to reach a recipient', async () => {
    const push1 = channel();
    expect(push1.canReach(push([]).recipient)).toBe(false);
    expect(push1.canReach(push(['tok-1']).recipient)).toBe(true);
    const error = await rejectionOf(push1.send(push([])));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe('no_device_tokens');
  });

  it('builds from a service-account key without any network', async () => {
    const push1 = createFcmPushChannel({ serviceAccount: sandboxServiceAccount('herald-prod-like') });
    opened.push(push1);
    expect(push1.name).toBe('push');
  });
});
