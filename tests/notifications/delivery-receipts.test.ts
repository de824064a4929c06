import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../lib/db/pool.js';
import {
  applyReceipt,
  parseReceiptBody,
  ReceiptError,
  signReceipt,
  verifyReceiptSignature,
  type ReceiptBody,
} from '../../lib/notifications/delivery-receipts.js';

const secret = 'receipt-test-secret';
let pool: Pool;
const userIds: string[] = [];

beforeAll(() => {
  pool = createPool(process.env.DATABASE_URL!, 4);
});

afterAll(async () => {
  // Deleting the event cascades to notifications, deliveries, history and receipts.
  await pool.query('DELETE FROM domain_events WHERE user_id = ANY($1::text[])', [userIds]);
  await pool.query('DELETE FROM customers WHERE user_id = ANY($1::text[])', [userIds]);
  await pool.end();
});

async function createDelivery(channel: 'push' | 'email' | 'sms' = 'sms', status = 'SENT') {
  const userId = `u-receipt-${randomUUID()}`;
  userIds.push(userId);
  const eventId = randomUUID();
  await pool.query(`INSERT INTO customers (user_id, email, phone) VALUES ($1, $2, '+265991234567')`, [userId, `${userId}@example.test`]);
  await pool.query(
    `INSERT INTO domain_events (id, type, aggregate_type, aggregate_id, user_id, source, payload, metadata, occurred_at)
     VALUES ($1, 'account.frozen', 'account', '123456789012', $2, 'test', '{"accountNumber":"123456789012"}', $3, now())`,
    [eventId, userId, JSON.stringify({ userId, source: 'test' })],
  );
  const { rows: [notification] } = await pool.query<{ id: string }>(
    `INSERT INTO notifications (event_id, user_id, event_type, priority, locale) VALUES ($1, $2, 'account.frozen', 'critical', 'en') RETURNING id`,
    [eventId, userId],
  );
  const { rows: [delivery] } = await pool.query<{ id: string }>(
    `INSERT INTO notification_deliveries (notification_id, channel, status, user_id, event_type, priority, content, attempts, sent_at, provider_message_id)
     VALUES ($1, $2, $3, $4, 'account.frozen', 'critical', '{"text":"hi"}', 1, now(), 'pm-1') RETURNING id`,
    [notification!.id, channel, status, userId],
  );
  return delivery!.id;
}

async function stateOf(deliveryId: string) {
  const { rows: [delivery] } = await pool.query<{ status: string; delivered_at: Date | null; last_error: string | null; last_error_code: string | null }>(
    'SELECT status, delivered_at, last_error, last_error_code FROM notification_deliveries WHERE id = $1',
    [deliveryId],
  );
  const { rows: history } = await pool.query<{ status: string; provider_response: Record<string, unknown>; error: string | null; attempt: number }>(
    'SELECT status, provider_response, error, attempt FROM notification_history WHERE delivery_id = $1 ORDER BY id',
    [deliveryId],
  );
  const { rows: receipts } = await pool.query<{ id: string; channel: string; outcome: string; provider_status: string }>(
    'SELECT id, channel, outcome, provider_status FROM delivery_receipts WHERE delivery_id = $1 ORDER BY received_at',
    [deliveryId],
  );
  return { delivery: delivery!, history, receipts };
}

/** What the receipts route does: verify the raw body, parse it, apply it. */
async function receive(channel: string, rawBody: string, header: string | undefined, now = new Date()) {
  verifyReceiptSignature(rawBody, header, secret, { now: () => now });
  return applyReceipt(pool, channel, parseReceiptBody(JSON.parse(rawBody)));
}

function receipt(deliveryId: string, overrides: Partial<ReceiptBody> = {}): string {
  return JSON.stringify({ receiptId: `r-${randomUUID()}`, deliveryId, providerMessageId: 'pm-1', status: 'delivered', ...overrides });
}

async function rejection(promise: Promise<unknown>): Promise<ReceiptError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ReceiptError);
  return error as ReceiptError;
}

describe('verifyReceiptSignature', () => {
  const body = '{"receiptId":"r-1"}';
  const now = new Date('2026-11-23T10:00:00Z');
  const t = Math.floor(now.getTime() / 1000);

  it('accepts a fresh, correctly signed body (string or Buffer)', () => {
    const header = signReceipt(body, secret, t);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyReceiptSignature(body, header, secret, { now: () => now }).timestamp).toEqual(new Date(t * 1000));
    expect(() => verifyReceiptSignature(Buffer.from(body), header, secret, { now: () => now })).not.toThrow();
  });

  it('accepts any of several v1 signatures (sender-side secret rotation)', () => {
    const good = signReceipt(body, secret, t).split(',')[1]!;
    const header = `t=${t},v1=${'0'.repeat(64)},${good}`;
    expect(() => verifyReceiptSignature(body, header, secret, { now: () => now })).not.toThrow();
  });

  it.each([
    ['missing header', undefined],
    ['empty header', ''],
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['no signature', `t=${t}`],
    ['non-hex signature', `t=${t},v1=${'z'.repeat(64)}`],
    ['short signature', `t=${t},v1=abcd`],
    ['wrong secret', signReceipt(body, 'another-secret', t)],
    ['signature of another timestamp', `t=${t - 1},${signReceipt(body, secret, t).split(',')[1]}`],
  ])('rejects %s as bad_signature', (_name, header) => {
    try {
      verifyReceiptSignature(body, header, secret, { now: () => now });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ReceiptError);
      expect((error as ReceiptError).code).toBe('bad_signature');
    }
  });

  it('rejects a tampered body', () => {
    const header = signReceipt(body, secret, t);
    expect(() => verifyReceiptSignature(body.replace('r-1', 'r-2'), header, secret, { now: () => now })).toThrow(
      expect.objectContaining({ code: 'bad_signature' }),
    );
  });

  it('rejects a correctly signed but old (or far-future) timestamp as stale_signature', () => {
    const old = signReceipt(body, secret, t - 301);
    expect(() => verifyReceiptSignature(body, old, secret, { now: () => now })).toThrow(expect.objectContaining({ code: 'stale_signature' }));
    const future = signReceipt(body, secret, t + 301);
    expect(() => verifyReceiptSignature(body, future, secret, { now: () => now })).toThrow(expect.objectContaining({ code: 'stale_signature' }));
    expect(() => verifyReceiptSignature(body, signReceipt(body, secret, t - 299), secret, { now: () => now })).not.toThrow();
    expect(() => verifyReceiptSignature(body, old, secret, { now: () => now, toleranceMs: 10 * 60_000 })).not.toThrow();
  });
});

describe('parseReceiptBody', () => {
  it('reports every invalid field as invalid_body', () => {
    try {
      parseReceiptBody({ receiptId: '', deliveryId: 'nope', status: 'read', occurredAt: 'yesterday' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ReceiptError);
      const e = error as ReceiptError;
      expect(e.code).toBe('invalid_body');
      expect(e.details.map((d) => d.path).sort()).toEqual(['deliveryId', 'occurredAt', 'receiptId', 'status']);
    }
  });

  it('drops unknown fields', () => {
    const parsed = parseReceiptBody({ receiptId: 'r', deliveryId: randomUUID(), status: 'delivered', msisdn: '+265991234567' });
    expect(parsed).not.toHaveProperty('msisdn');
  });
});

describe('applyReceipt', () => {
  it('moves a SENT delivery to DELIVERED and appends history', async () => {
    const id = await createDelivery('sms');
    const body = receipt(id, { occurredAt: '2026-11-23T10:00:00Z' });
    const result = await receive('sms', body, signReceipt(body, secret));
    expect(result).toMatchObject({ deliveryId: id, channel: 'sms', outcome: 'delivered', previousStatus: 'SENT', status: 'DELIVERED', transitioned: true });

    const { delivery, history, receipts } = await stateOf(id);
    expect(delivery.status).toBe('DELIVERED');
    expect(delivery.delivered_at).toBeInstanceOf(Date);
    expect(receipts).toEqual([{ id: JSON.parse(body).receiptId, channel: 'sms', outcome: 'delivered', provider_status: 'delivered' }]);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ status: 'DELIVERED', attempt: 1, error: null });
    expect(history[0]!.provider_response).toMatchObject({ source: 'receipt', receiptId: JSON.parse(body).receiptId, providerStatus: 'delivered', providerMessageId: 'pm-1' });
  });

  it('moves a SENT delivery to FAILED on a bounce, with last_error and no PII in history', async () => {
    const id = await createDelivery('email');
    const body = receipt(id, { status: 'bounced', detail: '550 5.1.1 <jane.doe@example.com> mailbox unavailable' });
    const result = await receive('email', body, signReceipt(body, secret));
    expect(result).toMatchObject({ outcome: 'failed', previousStatus: 'SENT', status: 'FAILED', transitioned: true });

    const { delivery, history } = await stateOf(id);
    expect(delivery.status).toBe('FAILED');
    expect(delivery.delivered_at).toBeNull();
    expect(delivery.last_error).toContain('bounced');
    expect(delivery.last_error_code).toBe('receipt_bounced');
    expect(history).toHaveLength(1);
    expect(history[0]!.status).toBe('FAILED');
    const stored = JSON.stringify(history[0]) + (delivery.last_error ?? '');
    expect(stored).not.toContain('jane.doe@example.com');
    expect(stored).toContain('j***@example.com');
  });

  it('moves DELIVERED to FAILED when an undelivered receipt follows, masking phone numbers', async () => {
    const id = await createDelivery('sms', 'DELIVERED');
    const body = receipt(id, { status: 'undelivered', detail: 'handset +265991234567 unreachable' });
    await receive('sms', body, signReceipt(body, secret));
    const { delivery, history } = await stateOf(id);
    expect(delivery.status).toBe('FAILED');
    expect(JSON.stringify(history)).not.toContain('+265991234567');
  });

  it('records but does not move a delivery that is not SENT (e.g. still SENDING)', async () => {
    const id = await createDelivery('sms', 'SENDING');
    const body = receipt(id);
    const result = await receive('sms', body, signReceipt(body, secret));
    expect(result).toMatchObject({ previousStatus: 'SENDING', status: 'SENDING', transitioned: false });
    const { delivery, history, receipts } = await stateOf(id);
    expect(delivery.status).toBe('SENDING');
    expect(receipts).toHaveLength(1);
    expect(history[0]!.provider_response).toMatchObject({ ignoredInStatus: 'SENDING' });
  });

  it('rejects a badly signed receipt and writes nothing', async () => {
    const id = await createDelivery('sms');
    const body = receipt(id);
    const forged = signReceipt(body, 'not-the-secret');
    expect((await rejection(receive('sms', body, forged))).code).toBe('bad_signature');
    const tampered = signReceipt(body, secret);
    expect((await rejection(receive('sms', body.replace('delivered', 'bounced'), tampered))).code).toBe('bad_signature');
    const { delivery, history, receipts } = await stateOf(id);
    expect(delivery.status).toBe('SENT');
    expect(history).toHaveLength(0);
    expect(receipts).toHaveLength(0);
  });

  it('rejects a replayed receipt with a stale timestamp and writes nothing', async () => {
    const id = await createDelivery('sms');
    const body = receipt(id);
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    expect((await rejection(receive('sms', body, signReceipt(body, secret, tenMinutesAgo)))).code).toBe('stale_signature');
    const { delivery, history, receipts } = await stateOf(id);
    expect(delivery.status).toBe('SENT');
    expect(history).toHaveLength(0);
    expect(receipts).toHaveLength(0);
  });

  it('rejects an unknown delivery id, and a delivery of another channel, with no side effect', async () => {
    const unknown = randomUUID();
    const body = receipt(unknown);
    expect((await rejection(receive('sms', body, signReceipt(body, secret)))).code).toBe('unknown_delivery');
    const { rows } = await pool.query('SELECT 1 FROM delivery_receipts WHERE id = $1', [JSON.parse(body).receiptId]);
    expect(rows).toHaveLength(0);

    const id = await createDelivery('push');
    const smsBody = receipt(id);
    expect((await rejection(receive('sms', smsBody, signReceipt(smsBody, secret)))).code).toBe('unknown_delivery');
    expect((await rejection(applyReceipt(pool, 'fax', JSON.parse(smsBody) as ReceiptBody))).code).toBe('unknown_delivery');
    const { delivery, history, receipts } = await stateOf(id);
    expect(delivery.status).toBe('SENT');
    expect(history).toHaveLength(0);
    expect(receipts).toHaveLength(0);
  });

  it('rejects the same receipt twice as duplicate_receipt, leaving state as the first left it', async () => {
    const id = await createDelivery('sms');
    const body = receipt(id);
    await receive('sms', body, signReceipt(body, secret));
    const after = await stateOf(id);
    expect(after.delivery.status).toBe('DELIVERED');

    expect((await rejection(receive('sms', body, signReceipt(body, secret)))).code).toBe('duplicate_receipt');
    // Same receipt id, different claim: still a duplicate, still no effect.
    const changed = JSON.stringify({ ...JSON.parse(body), status: 'bounced' });
    expect((await rejection(receive('sms', changed, signReceipt(changed, secret)))).code).toBe('duplicate_receipt');
    expect(await stateOf(id)).toEqual(after);
  });

  it('applies one of two concurrent copies of a receipt', async () => {
    const id = await createDelivery('sms');
    const body = JSON.parse(receipt(id)) as ReceiptBody;
    const results = await Promise.allSettled([applyReceipt(pool, 'sms', body), applyReceipt(pool, 'sms', body)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((failed.reason as ReceiptError).code).toBe('duplicate_receipt');
    const { history, receipts } = await stateOf(id);
    expect(history).toHaveLength(1);
    expect(receipts).toHaveLength(1);
  });
});
