import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSmtpEmailChannel, type SmtpEmailOptions } from '../../lib/channels/email-smtp.js';
import { ChannelConfigurationError, PermanentDeliveryError, TransientDeliveryError } from '../../lib/channels/delivery-errors.js';
import { startSmtpSink, type SmtpSink } from '../../lib/channels/sandbox/smtp-sink.js';
import { closedPort, onlyLoopback, outbound, rejectionOf } from './support.js';

onlyLoopback();

const CUSTOMER = 'jane.doe@example.com';
const JOURNAL = 'journal@archive.bank.example';

let sink: SmtpSink;
let authSink: SmtpSink;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  sink = await startSmtpSink();
  authSink = await startSmtpSink({ auth: { user: 'herald', pass: 's3cret' } });
});
afterAll(async () => {
  await sink.close();
  await authSink.close();
});
beforeEach(() => sink.reset());
afterEach(async () => {
  await Promise.all(opened.splice(0).map((channel) => channel.close()));
});

function channel(overrides: Partial<SmtpEmailOptions> = {}) {
  const email = createSmtpEmailChannel({
    host: sink.host,
    port: sink.port,
    from: '"Herald Bank" <no-reply@bank.example>',
    messageIdDomain: 'notify.bank.example',
    socketTimeoutMs: 5_000,
    ...overrides,
  });
  opened.push(email);
  return email;
}

const email = (to: string | null = CUSTOMER) =>
  outbound<'email'>(
    { subject: 'Your card payment', text: 'EUR 12.30 at Bakery', html: '<p>EUR 12.30 at <b>Bakery</b></p>' },
    { email: to },
  );

describe('SMTP email channel', () => {
  it('sends text and html with the delivery id as Message-ID', async () => {
    const message = email();

    const result = await channel().send(message);

    const [received] = sink.acceptedFor(message.deliveryId);
    expect(received?.messageId).toBe(`${message.deliveryId}@notify.bank.example`);
    expect(received?.from).toBe('no-reply@bank.example');
    expect(received?.to).toEqual([CUSTOMER]);
    expect(received?.subject).toBe('Your card payment');
    expect(received?.raw).toMatch(/multipart\/alternative/);
    expect(received?.raw).toMatch(/text\/plain/);
    expect(received?.raw).toMatch(/text\/html/);
    expect(result.providerMessageId).toBe(`<${message.deliveryId}@notify.bank.example>`);
    expect(JSON.stringify(result.response)).not.toContain(CUSTOMER);
  });

  it.each([421, 451] as const)('treats a %i reply as transient', async (code) => {
    sink.replyNext({ kind: 'defer', code });
    const error = await rejectionOf(channel().send(email()));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('smtp_deferred');
    expect(error.providerResponse.responseCode).toBe(code);
  });

  it('treats a 550 reply to the message as permanent', async () => {
    sink.replyNext({ kind: 'reject', code: 550 });
    const error = await rejectionOf(channel().send(email()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe('smtp_rejected');
  });

  it('treats a refused recipient as permanent and keeps the address out of the error', async () => {
    sink.refuseRecipient(CUSTOMER, 550, `5.1.1 <${CUSTOMER}>: Recipient address rejected: User unknown`);
    const error = await rejectionOf(channel().send(email()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe('smtp_recipient_rejected');
    expect(JSON.stringify({ message: error.message, response: error.providerResponse })).not.toContain(CUSTOMER);
  });

  describe('partial recipient rejection (customer plus journal copy)', () => {
    it('fails the delivery when the customer is refused, even though the journal took a copy', async () => {
      sink.refuseRecipient(CUSTOMER, 550);
      const message = email();

      const error = await rejectionOf(channel({ journalBcc: JOURNAL }).send(message));

      expect(error).toBeInstanceOf(PermanentDeliveryError);
      expect(error.code).toBe('smtp_recipient_rejected');
      expect(sink.acceptedFor(message.deliveryId).map((m) => m.to)).toEqual([[JOURNAL]]);
    });

    it('retries when the customer’s address is only deferred', async () => {
      sink.refuseRecipient(CUSTOMER, 450, '4.2.1 Mailbox temporarily unavailable');
      const error = await rejectionOf(channel({ journalBcc: JOURNAL }).send(email()));
      expect(error).toBeInstanceOf(TransientDeliveryError);
      expect(error.code).toBe('smtp_deferred');
    });

    it('counts as sent when only the journal copy is refused, and says so', async () => {
      sink.refuseRecipient(JOURNAL, 550);
      const message = email();

      const result = await channel({ journalBcc: JOURNAL }).send(message);

      expect(result.response).toMatchObject({ journalRejected: true });
      expect(sink.acceptedFor(message.deliveryId).map((m) => m.to)).toEqual([[CUSTOMER]]);
    });
  });

  it('treats bad credentials as a configuration error', async () => {
    const error = await rejectionOf(channel({ port: authSink.port, auth: { user: 'herald', pass: 'wrong' } }).send(email()));
    expect(error).toBeInstanceOf(ChannelConfigurationError);
    expect(error.code).toBe('smtp_auth_failed');
  });

  it('treats missing credentials on a server that requires them as a configuration error', async () => {
    const error = await rejectionOf(channel({ port: authSink.port }).send(email()));
    expect(error).toBeInstanceOf(ChannelConfigurationError);
    expect(error.code).toBe('smtp_auth_failed');
  });

  it('sends once authenticated', async () => {
    const message = email();
    await channel({ port: authSink.port, auth: { user: 'herald', pass: 's3cret' } }).send(message);
    expect(authSink.acceptedFor(message.deliveryId)).toHaveLength(1);
  });

  it('treats a refused sender as a configuration error', async () => {
    sink.refuseSender(553);
    const error = await rejectionOf(channel().send(email()));
    expect(error).toBeInstanceOf(ChannelConfigurationError);
    expect(error.code).toBe('smtp_sender_rejected');
  });

  it('treats a refused connection as transient', async () => {
    const error = await rejectionOf(channel({ port: await closedPort() }).send(email()));
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('smtp_connection_failed');
    expect(error.providerResponse).toMatchObject({ originalCode: 'ECONNREFUSED' });
  });

  it('does not let the pool resend a message whose connection dropped mid-transaction', async () => {
    sink.replyNext({ kind: 'drop' });
    const message = email();

    const error = await rejectionOf(channel().send(message));
    await new Promise((resolve) => setTimeout(resolve, 300)); // longer than the pool's requeue delay

    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('smtp_connection_failed');
    expect(sink.transmissionsFor(message.deliveryId)).toBe(1);
  });

  it('leaves retries to the retry worker when the server drops connections before its greeting', async () => {
    let connections = 0;
    const dropper = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    try {
      const error = await rejectionOf(channel({ port: (dropper.address() as net.AddressInfo).port }).send(email()));
      await new Promise((resolve) => setTimeout(resolve, 300)); // longer than the pool's first requeue delay

      expect(error).toBeInstanceOf(TransientDeliveryError);
      expect(error.code).toBe('smtp_connection_failed');
      expect(connections).toBe(1); // nodemailer's default would requeue and reconnect up to 5 times
    } finally {
      await new Promise<void>((resolve) => dropper.close(() => resolve()));
    }
  });

  it('stops waiting for a stalled server when the signal fires', async () => {
    sink.replyNext({ kind: 'hang' });
    const started = Date.now();

    const error = await rejectionOf(channel().send(email(), AbortSignal.timeout(300)));

    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error.code).toBe('smtp_timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('needs an address to reach a recipient', async () => {
    const smtp = channel();
    expect(smtp.canReach(email(null).recipient)).toBe(false);
    const error = await rejectionOf(smtp.send(email(null)));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe('no_email_address');
  });
});
