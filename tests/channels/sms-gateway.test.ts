import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSmsGatewayChannel, parseRetryAfter, type SmsGatewayOptions } from '../../lib/channels/sms-gateway.js';
import { ChannelConfigurationError, PermanentDeliveryError, TransientDeliveryError } from '../../lib/channels/delivery-errors.js';
import { startSmsGatewaySink, type SmsGatewaySink } from '../../lib/channels/sandbox/sms-gateway-sink.js';
import { closedPort, onlyLoopback, outbound, rejectionOf } from './support.js';

onlyLoopback();

const PHONE = '+4915112345678';
const AUTH = { header: 'X-Api-Key', value: 'esb-key-1' };

let sink: SmsGatewaySink;

beforeAll(async () => {
  sink = await startSmsGatewaySink({ auth: AUTH });
});
afterAll(() => sink.close());
beforeEach(() => sink.reset());

const channel = (overrides: Partial<SmsGatewayOptions> = {}) =>
  createSmsGatewayChannel({ url: sink.url, auth: AUTH, timeoutMs: 2_000, ...overrides });

const sms = (phone: string | null = PHONE) => outbound<'sms'>({ text: 'Card payment EUR 12.30 at Bakery' }, { phone });

describe('SMS gateway channel', () => {
  it('posts the default body with the delivery id as Idempotency-Key and reads the message id', async () => {
    const message = sms();

    const result = await channel().send(message);

    const accepted = sink.acceptedFor(message.deliveryId);
    expect(accepted?.body).toEqual({ to: PHONE, text: 'Card payment EUR 12.30 at Bakery', reference: message.deliveryId });
    expect(accepted?.headers['x-api-key']).toBe('esb-key-1');
    expect(result.providerMessageId).toBe(accepted?.messageId);
    expect(JSON.stringify(result.response)).not.toContain(PHONE);
  });

  it('shapes the body from a field map and reads a nested message id', async () => {
    const nested = await startSmsGatewaySink({ acceptedBody: (id) => ({ result: { smsId: id } }) });
    try {
      const message = sms();
      const result = await createSmsGatewayChannel({
        url: nested.url,
        sender: 'HERALDBANK',
        body: { 'destination.msisdn': 'to', 'message.text': 'text', 'message.from': 'sender', clientRef: 'reference', channel: { value: 'SMS' } },
        messageIdPath: 'result.smsId',
      }).send(message);

      const accepted = nested.acceptedFor(message.deliveryId);
      expect(accepted?.body).toEqual({
        destination: { msisdn: PHONE },
        message: { text: 'Card payment EUR 12.30 at Bakery', from: 'HERALDBANK' },
        clientRef: message.deliveryId,
        channel: 'SMS',
      });
      expect(result.providerMessageId).toBe(accepted?.messageId);
    } finally {
      await nested.close();
    }
  });

  it('is sent once when the same delivery is resent', async () => {
    const message = sms();
    const sms1 = channel();

    const first = await sms1.send(message);
    const again = await sms1.send({ ...message, attempt: 2 });

    expect(sink.requestsFor(message.deliveryId)).toBe(2);
    expect(sink.messages.filter((m) => m.idempotencyKey === message.deliveryId)).toHaveLength(1);
    expect(again.providerMessageId).toBe(first.providerMessageId);
  });

  it('honours Retry-After in seconds on 429', async () => {
    sink.replyNext({ status: 429, body: { code: 'THROTTLED' }, headers: { 'retry-after': '7' } });
    const error = await rejectionOf(channel().send(sms()));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('sms_rate_limited');
    expect(error.retryAfterMs).toBe(7_000);
    expect(error.providerResponse).toEqual({ status: 429, gatewayCode: 'THROTTLED' });
  });

  it('honours Retry-After as an HTTP date on 503', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    sink.replyNext({ status: 503, headers: { 'retry-after': at } });
    const error = await rejectionOf(channel().send(sms()));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('sms_gateway_unavailable');
    expect(error.retryAfterMs).toBeGreaterThan(100_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('treats a 500 without Retry-After as transient with no hint', async () => {
    sink.replyNext({ status: 500, body: { code: 'ESB_DOWN' } });
    const error = await rejectionOf(channel().send(sms()));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.retryAfterMs).toBeUndefined();
  });

  it.each([
    ['missing', undefined, 401],
    ['wrong', { header: 'X-Api-Key', value: 'stale' }, 403],
  ])('treats a %s credential as a configuration error', async (_name, auth, status) => {
    const error = await rejectionOf(channel({ auth }).send(sms()));
    expect(error).toBeInstanceOf(ChannelConfigurationError);
    expect(error.code).toBe('sms_auth_rejected');
    expect(error.providerResponse.status).toBe(status);
  });

  it('treats other 4xx answers as permanent', async () => {
    sink.replyNext({ status: 422, body: { code: 'INVALID_MSISDN', message: `bad number ${PHONE}` } });
    const error = await rejectionOf(channel().send(sms()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe('sms_rejected');
    expect(error.providerResponse).toEqual({ status: 422, gatewayCode: 'INVALID_MSISDN' });
  });

  it('times out a gateway that does not answer', async () => {
    sink.replyNext('hang');
    const started = Date.now();
    const error = await rejectionOf(channel({ timeoutMs: 200 }).send(sms()));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('sms_timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops when the caller’s signal fires first', async () => {
    sink.replyNext('hang');
    const error = await rejectionOf(channel({ timeoutMs: 10_000 }).send(sms(), AbortSignal.timeout(150)));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('sms_timeout');
  });

  it('treats a refused or reset connection as transient', async () => {
    const refused = await rejectionOf(channel({ url: `http://127.0.0.1:${await closedPort()}/sms` }).send(sms()));
    expect(refused).toBeInstanceOf(TransientDeliveryError);
    expect(refused.code).toBe('sms_connection_failed');
    expect(refused.providerResponse).toEqual({ code: 'ECONNREFUSED' });

    sink.replyNext('reset');
    const reset = await rejectionOf(channel().send(sms()));
    expect(reset).toBeInstanceOf(TransientDeliveryError);
    expect(reset.code).toBe('sms_connection_failed');
  });

  it('needs a phone number to reach a recipient', async () => {
    expect(channel().canReach(sms(null).recipient)).toBe(false);
    const error = await rejectionOf(channel().send(sms(null)));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe('no_phone_number');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T10:00:00Z');
  it('reads seconds, dates, and ignores garbage', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
