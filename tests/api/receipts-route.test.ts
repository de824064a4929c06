import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { signReceipt } from '../../lib/notifications/delivery-receipts.js';
import { buildServer } from '../../services/api/server.js';
import { createCustomer, deleteCustomer, testContext, transactionCompleted } from '../support/harness.js';

const secret = 'test-receipt-secret-0123456789';
let ctx: AppContext;
let app: FastifyInstance;
let userId: string;
let deliveryId: string;

beforeAll(async () => {
  process.env.RECEIPT_SIGNING_SECRET = secret;
  ctx = testContext();
  app = await buildServer(ctx);
  const c = await createCustomer(ctx);
  userId = c.userId;
  const event = transactionCompleted(c);
  await ctx.bus.publish(event);
  const notificationId = randomUUID();
  deliveryId = randomUUID();
  await ctx.pool.query(`INSERT INTO notifications (id, event_id, user_id, event_type, priority, locale) VALUES ($1, $2, $3, 'transaction.completed', 'normal', 'en')`, [notificationId, event.id, userId]);
  await ctx.pool.query(
    `INSERT INTO notification_deliveries (id, notification_id, channel, status, user_id, event_type, priority, content, attempts, sent_at)
     VALUES ($1, $2, 'sms', 'SENT', $3, 'transaction.completed', 'normal', '{"text":"hi"}', 1, now())`,
    [deliveryId, notificationId, userId],
  );
});
afterAll(async () => {
  delete process.env.RECEIPT_SIGNING_SECRET;
  await app.close();
  await deleteCustomer(ctx, userId);
  await ctx.close();
});

function post(channel: string, body: string, signature?: string) {
  return app.inject({
    method: 'POST',
    url: `/v1/receipts/${channel}`,
    headers: { 'content-type': 'application/json', ...(signature ? { 'herald-signature': signature } : {}) },
    payload: body,
  });
}

describe('POST /v1/receipts/:channel', () => {
  it('applies a signed receipt once: SENT → DELIVERED, a replay is a 409 with no effect', async () => {
    const body = JSON.stringify({ receiptId: `r-${randomUUID()}`, deliveryId, status: 'delivered' });
    const first = await post('sms', body, signReceipt(body, secret));
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ deliveryId, status: 'DELIVERED' });
    const again = await post('sms', body, signReceipt(body, secret));
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('conflict');
    const row = (await ctx.pool.query('SELECT status FROM notification_deliveries WHERE id = $1', [deliveryId])).rows[0];
    expect(row.status).toBe('DELIVERED');
  });

  it('rejects a bad signature (401), an unknown delivery (404), a bad body (400) and an unknown channel (400)', async () => {
    const body = JSON.stringify({ receiptId: `r-${randomUUID()}`, deliveryId, status: 'bounced' });
    expect((await post('sms', body, signReceipt(body, 'wrong-secret'))).statusCode).toBe(401);
    expect((await post('sms', body)).statusCode).toBe(401);
    const unknown = JSON.stringify({ receiptId: `r-${randomUUID()}`, deliveryId: randomUUID(), status: 'delivered' });
    expect((await post('sms', unknown, signReceipt(unknown, secret))).statusCode).toBe(404);
    const bad = JSON.stringify({ receiptId: 'r', deliveryId: 'nope', status: 'teleported' });
    const badReply = await post('sms', bad, signReceipt(bad, secret));
    expect(badReply.statusCode).toBe(400);
    expect(badReply.json().details.map((d: { path: string }) => d.path).sort()).toEqual(['deliveryId', 'status']);
    expect((await post('fax', body, signReceipt(body, secret))).statusCode).toBe(400);
    const row = (await ctx.pool.query('SELECT status FROM notification_deliveries WHERE id = $1', [deliveryId])).rows[0];
    expect(row.status).toBe('DELIVERED');
  });
});
