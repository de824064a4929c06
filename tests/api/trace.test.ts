import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import type { Notifier } from '../../lib/notifications/notifier.js';
import { buildServer } from '../../services/api/server.js';
import { createCustomer, deleteCustomer, deliveriesOf, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';
import { inject, TestKeys } from './api-support.js';

let ctx: AppContext;
let app: FastifyInstance;
let keys: TestKeys;
let notifier: Notifier;
const users: string[] = [];

beforeAll(async () => {
  ctx = testContext();
  app = await buildServer(ctx);
  keys = new TestKeys(ctx);
  notifier = await startTestNotifier(ctx, { push: new SandboxChannel('push'), email: new SandboxChannel('email'), sms: new SandboxChannel('sms') });
});
afterAll(async () => {
  await notifier.stop();
  for (const id of users) await deleteCustomer(ctx, id);
  await keys.cleanup();
  await app.close();
  await ctx.close();
});

describe('the full trace of an event', () => {
  it('event → notification → deliveries → attempts, with contacts masked; list and stats agree', async () => {
    const { auth: publish } = await keys.create(['publish']);
    const { auth: read } = await keys.create(['read']);
    const c = await createCustomer(ctx);
    users.push(c.userId);
    const event = transactionCompleted(c);
    expect((await inject(app, 'POST', '/v1/events', publish, event)).status).toBe(202);
    await waitFor(async () => {
      const rows = await deliveriesOf(ctx, event.id);
      return rows.length === 3 && rows.every((r) => r.status === 'SENT');
    }, 10_000, 'three SENT deliveries');

    const trace = await inject(app, 'GET', `/v1/events/${event.id}`, read);
    expect(trace.status).toBe(200);
    expect(trace.body).toMatchObject({ id: event.id, type: 'transaction.completed', processing: { state: 'processed', failedAttempts: 0, lastError: null, retryAt: null } });
    expect(trace.body.notifications).toHaveLength(1);
    const [notification] = trace.body.notifications;
    expect(notification).toMatchObject({ eventId: event.id, userId: c.userId, eventType: 'transaction.completed' });
    expect(notification.deliveries.map((d: { channel: string }) => d.channel)).toEqual(['email', 'push', 'sms']);
    for (const delivery of notification.deliveries) {
      expect(delivery.status).toBe('SENT');
      expect(delivery.history).toHaveLength(1);
      expect(delivery.history[0]).toMatchObject({ attempt: 1, status: 'SENT', latencyMs: expect.any(Number) });
    }
    const text = JSON.stringify(trace.body);
    expect(text).not.toContain(`${c.userId}@example.test`);
    expect(text).not.toContain('+265991234567');

    const one = await inject(app, 'GET', `/v1/notifications/${notification.id}`, read);
    expect(one.status).toBe(200);
    expect(one.body.deliveries).toHaveLength(3);

    const list = await inject(app, 'GET', `/v1/notifications?userId=${c.userId}&status=SENT&channel=sms`, read);
    expect(list.body.items.map((n: { id: string }) => n.id)).toEqual([notification.id]);
    const none = await inject(app, 'GET', `/v1/notifications?userId=${c.userId}&status=FAILED`, read);
    expect(none.body.items).toEqual([]);

    const stats = await inject(app, 'GET', '/v1/stats?window=1h', read);
    expect(stats.status).toBe(200);
    expect(stats.body.byChannel.sms.sent).toBeGreaterThanOrEqual(1);
    expect(stats.body.byEventType['transaction.completed'].sent).toBeGreaterThanOrEqual(3);
    expect(stats.body.byHour.length).toBeGreaterThanOrEqual(1);
    expect(stats.body.deliveries.successRate).toBeGreaterThan(0);
    expect((await inject(app, 'GET', '/v1/stats?window=forever', read)).body.details[0].path).toBe('window');
  });
});

describe('Postgres unreachable', () => {
  it('answers 503 unavailable and claims nothing stored', async () => {
    const down = testContext({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/herald_test' });
    const server = await buildServer(down);
    try {
      const c = { userId: 'u-down', accountNumber: '123456789012' };
      const res = await inject(server, 'POST', '/v1/events', { authorization: 'Bearer hrld_whatever' }, transactionCompleted(c));
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: 'unavailable', message: expect.any(String) });
      expect(res.headers['herald-error-code']).toBe('HERALD_ERR_UNAVAILABLE');
      const ready = await inject(server, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.postgres).toBe('unavailable');
    } finally {
      await server.close();
      await down.close();
    }
  });
});
