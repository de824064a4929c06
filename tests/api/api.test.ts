import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { revokeApiKey } from '../../lib/api/api-keys.js';
import { buildServer } from '../../services/api/server.js';
import { createCustomer, deleteCustomer, testContext, transactionCompleted } from '../support/harness.js';
import { inject, TestKeys } from './api-support.js';

let ctx: AppContext;
let app: FastifyInstance;
let keys: TestKeys;
let reader: Awaited<ReturnType<TestKeys['create']>>;
let publisher: Awaited<ReturnType<TestKeys['create']>>;
let admin: Awaited<ReturnType<TestKeys['create']>>;
const users: string[] = [];

async function customer() {
  const c = await createCustomer(ctx);
  users.push(c.userId);
  return c;
}

beforeAll(async () => {
  ctx = testContext();
  app = await buildServer(ctx, { apiConfig: { API_BODY_LIMIT_BYTES: 100_000 } });
  keys = new TestKeys(ctx);
  reader = await keys.create(['read']);
  publisher = await keys.create(['publish']);
  admin = await keys.create(['admin']);
});
afterAll(async () => {
  for (const id of users) await deleteCustomer(ctx, id);
  await keys.cleanup();
  await app.close();
  await ctx.close();
});

describe('errors: one body shape, stable codes', () => {
  it('401 without a key, with an unknown key and with a revoked key', async () => {
    const none = await inject(app, 'GET', '/v1/events');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
    expect(none.headers['herald-error-code']).toBe('HERALD_ERR_UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toBe('Bearer');

    const unknown = await inject(app, 'GET', '/v1/events', { authorization: 'Bearer hrld_nope' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe('unauthorized');

    const revoked = await keys.create(['read']);
    expect((await inject(app, 'GET', '/v1/events?limit=1', revoked.auth)).status).toBe(200);
    expect(await revokeApiKey(ctx.pool, revoked.id)).toBe(true);
    const after = await inject(app, 'GET', '/v1/events?limit=1', revoked.auth);
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('unauthorized');
  });

  it('403 when the key lacks the scope', async () => {
    const c = await customer();
    const res = await inject(app, 'POST', '/v1/events', reader.auth, transactionCompleted(c));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', message: 'This route needs the "publish" scope' });
    expect(res.headers['herald-error-code']).toBe('HERALD_ERR_FORBIDDEN');
    const stored = await ctx.pool.query('SELECT 1 FROM domain_events WHERE user_id = $1', [c.userId]);
    expect(stored.rowCount).toBe(0);
  });

  it('400 validation_failed names every offending field', async () => {
    const c = await customer();
    const event = transactionCompleted(c, { amount: 12.5, currency: 'dollars' });
    const res = await inject(app, 'POST', '/v1/events', publisher.auth, { ...event, aggregateId: '' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.message).toEqual(expect.any(String));
    const paths = res.body.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['aggregateId', 'payload.amount', 'payload.currency']));
    expect(res.body.details.every((d: { message: string }) => typeof d.message === 'string' && d.message.length > 0)).toBe(true);
    expect((await ctx.pool.query('SELECT 1 FROM domain_events WHERE id = $1', [event.id])).rowCount).toBe(0);

    const query = await inject(app, 'GET', '/v1/events?limit=0&from=yesterday', reader.auth);
    expect(query.status).toBe(400);
    expect(query.body.error).toBe('validation_failed');
    expect(query.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['from', 'limit']);

    const cursor = await inject(app, 'GET', '/v1/events?cursor=garbage', reader.auth);
    expect(cursor.status).toBe(400);
    expect(cursor.body).toMatchObject({ error: 'invalid_cursor', details: [{ path: 'cursor' }] });

    const notJson = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...publisher.auth, 'content-type': 'application/json' }, payload: '{"type":' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error).toBe('validation_failed');
  });

  it('404 for an unknown event, notification and route', async () => {
    const event = await inject(app, 'GET', `/v1/events/${randomUUID()}`, reader.auth);
    expect(event.status).toBe(404);
    expect(event.body).toEqual({ error: 'not_found', message: expect.stringContaining('No event') });
    expect((await inject(app, 'GET', `/v1/notifications/${randomUUID()}`, reader.auth)).body.error).toBe('not_found');
    const route = await inject(app, 'GET', '/v1/nothing-here', reader.auth);
    expect(route.status).toBe(404);
    expect(route.body.error).toBe('not_found');
    expect(route.headers['x-request-id']).toBeTruthy();
  });

  it('202 then 200 for the same id; 409 for the same id with another body', async () => {
    const c = await customer();
    const event = transactionCompleted(c);
    const first = await inject(app, 'POST', '/v1/events', publisher.auth, event);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ id: event.id, type: 'transaction.completed', storedAt: expect.any(String) });

    const again = await inject(app, 'POST', '/v1/events', publisher.auth, event);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: event.id, type: event.type, storedAt: first.body.storedAt, aggregateId: event.aggregateId });

    const different = await inject(app, 'POST', '/v1/events', publisher.auth, { ...event, payload: { ...event.payload, amount: '9.99' } });
    expect(different.status).toBe(409);
    expect(different.body).toMatchObject({ error: 'conflict', details: [{ path: 'id' }] });
    expect(different.headers['herald-error-code']).toBe('HERALD_ERR_CONFLICT');
    const copies = await ctx.pool.query('SELECT payload FROM domain_events WHERE id = $1', [event.id]);
    expect(copies.rows).toHaveLength(1);
    expect(copies.rows[0].payload.amount).toBe('1250.00');
  });

  it('Idempotency-Key names the event when the body has no id (per API key)', async () => {
    const c = await customer();
    const { id: _ignored, ...event } = transactionCompleted(c);
    const headers = { ...publisher.auth, 'idempotency-key': `idem-${randomUUID()}` };
    const first = await inject(app, 'POST', '/v1/events', headers, event);
    expect(first.status).toBe(202);
    const second = await inject(app, 'POST', '/v1/events', headers, event);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    const conflict = await inject(app, 'POST', '/v1/events', headers, { ...event, aggregateId: 'other' });
    expect(conflict.status).toBe(409);
    // Another key with the same Idempotency-Key is another event.
    const other = await inject(app, 'POST', '/v1/events', { ...admin.auth, 'idempotency-key': headers['idempotency-key'] }, event);
    expect(other.status).toBe(202);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('400 naming the field for a bad Idempotency-Key or a body that is not an object, and nothing is stored', async () => {
    const c = await customer();
    const { id: _ignored, ...event } = transactionCompleted(c);
    const tooLong = await inject(app, 'POST', '/v1/events', { ...publisher.auth, 'idempotency-key': 'k'.repeat(256) }, event);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toEqual({ error: 'validation_failed', message: 'Invalid headers', details: [{ path: 'idempotency-key', message: expect.stringContaining('255') }] });
    const empty = await inject(app, 'POST', '/v1/events', { ...publisher.auth, 'idempotency-key': '' }, event);
    expect(empty.status).toBe(400);
    expect(empty.body.details).toEqual([{ path: 'idempotency-key', message: expect.any(String) }]);

    const list = await inject(app, 'POST', '/v1/events', publisher.auth, [event]);
    expect(list.status).toBe(400);
    expect(list.body).toMatchObject({ error: 'validation_failed', details: [{ path: '', message: 'must be a JSON object' }] });
    const stored = await ctx.pool.query('SELECT count(*)::int AS n FROM domain_events WHERE user_id = $1', [c.userId]);
    expect(stored.rows[0].n).toBe(0);
  });

  it('413 over the body limit', async () => {
    const c = await customer();
    const event = transactionCompleted(c, { description: 'x'.repeat(150_000) });
    const res = await inject(app, 'POST', '/v1/events', publisher.auth, event);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'payload_too_large', message: expect.any(String) });
    expect(res.headers['herald-error-code']).toBe('HERALD_ERR_PAYLOAD_TOO_LARGE');
  });

  it('429 with Retry-After past the key’s own rate limit; other keys are unaffected', async () => {
    const limited = await keys.create(['read'], 3);
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await inject(app, 'GET', '/v1/events?limit=1', limited.auth);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.body).toEqual({ error: 'rate_limited', message: expect.any(String) });
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect(last!.headers['herald-error-code']).toBe('HERALD_ERR_RATE_LIMITED');
    expect((await inject(app, 'GET', '/v1/events?limit=1', reader.auth)).status).toBe(200);
  });

  it('echoes a sane x-request-id and makes one up otherwise', async () => {
    const given = await inject(app, 'GET', '/health/live', { 'x-request-id': 'req-123' });
    expect(given.headers['x-request-id']).toBe('req-123');
    const made = await inject(app, 'GET', '/health/live', { 'x-request-id': 'bad id with spaces' });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('open routes', () => {
  it('health, metrics, OpenAPI and docs need no key', async () => {
    expect((await inject(app, 'GET', '/health/live')).status).toBe(200);
    const ready = await inject(app, 'GET', '/health/ready');
    expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('herald_events_published_total');
    expect(metrics.body).toContain('herald_process_cpu_user_seconds_total');
    const openapi = await inject(app, 'GET', '/openapi.json');
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/v1/events', '/v1/events/{id}', '/v1/notifications', '/v1/stats', '/v1/dead-letters', '/v1/users/{userId}/preferences']),
    );
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });
});

describe('scopes on every route', () => {
  const uuid = randomUUID();
  const routes: { method: string; url: string; scope: 'read' | 'publish' | 'admin'; body?: unknown }[] = [
    { method: 'POST', url: '/v1/events', scope: 'publish', body: {} },
    { method: 'GET', url: '/v1/events', scope: 'read' },
    { method: 'GET', url: `/v1/events/${uuid}`, scope: 'read' },
    { method: 'POST', url: '/v1/events/replay', scope: 'admin', body: { eventIds: [uuid] } },
    { method: 'GET', url: '/v1/notifications', scope: 'read' },
    { method: 'GET', url: `/v1/notifications/${uuid}`, scope: 'read' },
    { method: 'GET', url: '/v1/stats?window=1h', scope: 'read' },
    { method: 'GET', url: '/v1/users/u-scope-test/preferences', scope: 'read' },
    { method: 'PUT', url: '/v1/users/u-scope-test/preferences', scope: 'publish', body: { channels: { sms: false } } },
    { method: 'PUT', url: '/v1/users/u-scope-test/contact', scope: 'publish', body: { email: 'scope@example.test' } },
    { method: 'POST', url: '/v1/users/u-scope-test/devices', scope: 'publish', body: { token: 'tok-scope-test-1', platform: 'ios' } },
    { method: 'DELETE', url: '/v1/users/u-scope-test/devices/tok-scope-test-0', scope: 'publish' },
    { method: 'GET', url: '/v1/dead-letters', scope: 'admin' },
    { method: 'POST', url: `/v1/dead-letters/${uuid}/retry`, scope: 'admin' },
    { method: 'DELETE', url: `/v1/dead-letters/${uuid}`, scope: 'admin', body: { reason: 'test' } },
  ];
  afterAll(async () => {
    await ctx.pool.query(`DELETE FROM customers WHERE user_id = 'u-scope-test'`);
  });

  it.each(routes)('$method $url needs $scope', async ({ method, url, scope, body }) => {
    const keysFor = { read: reader, publish: publisher, admin };
    const noKey = await inject(app, method, url, {}, body);
    expect(noKey.status).toBe(401);
    for (const granted of ['read', 'publish', 'admin'] as const) {
      const res = await inject(app, method, url, keysFor[granted].auth, body);
      const allowed = granted === scope || granted === 'admin';
      if (allowed) expect([401, 403]).not.toContain(res.status);
      else expect(res.status, `${granted} key`).toBe(403);
      if (!allowed) expect(res.body.error).toBe('forbidden');
    }
  });
});

describe('pagination', () => {
  it('keyset pages neither repeat nor skip while events are inserted', async () => {
    const c = await customer();
    const initial: string[] = [];
    for (let i = 0; i < 23; i++) {
      const event = transactionCompleted(c);
      initial.push(event.id);
      await ctx.bus.publish(event);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Awaited<ReturnType<typeof inject>> = await inject(
        app, 'GET', `/v1/events?userId=${c.userId}&limit=5${cursor ? `&cursor=${cursor}` : ''}`, reader.auth,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
      pages++;
      // Concurrent inserts between pages (newer than the cursor).
      await Promise.all([ctx.bus.publish(transactionCompleted(c)), ctx.bus.publish(transactionCompleted(c))]);
    } while (cursor && pages < 50);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => initial.includes(id)).sort()).toEqual([...initial].sort());
    // The first page starts from the newest: the ones inserted during the walk come only on a fresh query.
    const fresh = await inject(app, 'GET', `/v1/events?userId=${c.userId}&limit=200&type=transaction.completed`, reader.auth);
    expect(fresh.body.items).toHaveLength(23 + pages * 2);
    const times = fresh.body.items.map((e: { storedAt: string }) => e.storedAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('finds events by aggregate and by correlation id, newest first, and nothing for a near miss', async () => {
    const c = await customer();
    const tx = `t-${randomUUID()}`;
    const flow = `flow-${randomUUID()}`;
    const ofTx = [0, 1, 2].map(() => ({ ...transactionCompleted(c), aggregateId: tx, metadata: { userId: c.userId, correlationId: flow, source: 'test' } }));
    const other = { ...transactionCompleted(c), metadata: { userId: c.userId, correlationId: `${flow}-other`, source: 'test' } };
    for (const event of [...ofTx, other]) {
      await ctx.bus.publish(event);
      // Distinct stored_at (millisecond precision), so "newest first" has one answer.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    const byAggregate = await inject(app, 'GET', `/v1/events?aggregateType=transaction&aggregateId=${tx}&limit=10`, reader.auth);
    expect(byAggregate.status).toBe(200);
    expect(byAggregate.body.items.map((e: { id: string }) => e.id)).toEqual(ofTx.map((e) => e.id).reverse());
    const wrongType = await inject(app, 'GET', `/v1/events?aggregateType=account&aggregateId=${tx}&limit=10`, reader.auth);
    expect(wrongType.body.items).toEqual([]);

    const byCorrelation = await inject(app, 'GET', `/v1/events?correlationId=${flow}&limit=2`, reader.auth);
    expect(byCorrelation.body.items.map((e: { id: string }) => e.id)).toEqual([ofTx[2]!.id, ofTx[1]!.id]);
    const next = await inject(app, 'GET', `/v1/events?correlationId=${flow}&limit=2&cursor=${byCorrelation.body.nextCursor}`, reader.auth);
    expect(next.body.items.map((e: { id: string }) => e.id)).toEqual([ofTx[0]!.id]);
    expect(next.body.nextCursor).toBeNull();
    const nearMiss = await inject(app, 'GET', `/v1/events?correlationId=${flow.slice(0, -1)}&limit=10`, reader.auth);
    expect(nearMiss.body.items).toEqual([]);
  });
});

describe('users', () => {
  it('preferences: validated, stored and read back', async () => {
    const c = await customer();
    const url = `/v1/users/${c.userId}/preferences`;
    const defaults = await inject(app, 'GET', url, reader.auth);
    expect(defaults.body).toMatchObject({ channels: { push: true, email: true, sms: true }, quietHours: null, frequencyCaps: {} });

    const bad = await inject(app, 'PUT', url, publisher.auth, {
      channels: { sms: 'no' },
      quietHours: { start: '25:00', end: '07:00', timeZone: 'Mars/Olympus' },
      frequencyCaps: { sms: -1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path).sort()).toEqual(
      ['channels.sms', 'frequencyCaps.sms', 'quietHours.start', 'quietHours.timeZone'],
    );

    const good = { channels: { sms: false }, quietHours: { start: '22:00', end: '07:00', timeZone: 'Africa/Blantyre' }, frequencyCaps: { push: 5 } };
    const put = await inject(app, 'PUT', url, publisher.auth, good);
    expect(put.status).toBe(200);
    const got = await inject(app, 'GET', url, reader.auth);
    expect(got.body).toMatchObject({ channels: { push: true, email: true, sms: false }, quietHours: good.quietHours, frequencyCaps: { push: 5 } });
    expect((await inject(app, 'GET', '/v1/users/u-nobody-here/preferences', reader.auth)).status).toBe(404);
  });

  it('contact: E.164 phone, masked in the answer, stored in clear', async () => {
    const c = await customer();
    const url = `/v1/users/${c.userId}/contact`;
    const bad = await inject(app, 'PUT', url, publisher.auth, { email: 'not-an-email', phone: '0991234567' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['email', 'phone']);
    const res = await inject(app, 'PUT', url, publisher.auth, { email: 'jane.banda@example.test', phone: '+265881112222' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userId: c.userId, email: 'j***@example.test', phone: '+********2222' });
    const row = await ctx.pool.query('SELECT email, phone FROM customers WHERE user_id = $1', [c.userId]);
    expect(row.rows[0]).toEqual({ email: 'jane.banda@example.test', phone: '+265881112222' });
  });

  it('devices: register and remove', async () => {
    const c = await customer();
    const token = `tok-${randomUUID()}`;
    const created = await inject(app, 'POST', `/v1/users/${c.userId}/devices`, publisher.auth, { token, platform: 'android' });
    expect(created.status).toBe(201);
    expect((await ctx.pool.query('SELECT active FROM devices WHERE token = $1', [token])).rows[0].active).toBe(true);
    const removed = await inject(app, 'DELETE', `/v1/users/${c.userId}/devices/${token}`, publisher.auth);
    expect(removed.status).toBe(204);
    expect((await ctx.pool.query('SELECT active FROM devices WHERE token = $1', [token])).rows[0].active).toBe(false);
    expect((await inject(app, 'DELETE', `/v1/users/${c.userId}/devices/${token}`, publisher.auth)).status).toBe(404);
    const bad = await inject(app, 'POST', `/v1/users/${c.userId}/devices`, publisher.auth, { token, platform: 'blackberry' });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('platform');
  });
});

describe('admin', () => {
  it('dead letters: list, unknown retry/discard → 404, discard needs a reason', async () => {
    const list = await inject(app, 'GET', '/v1/dead-letters?limit=5', admin.auth);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ items: expect.any(Array) });
    const badCursor = await inject(app, 'GET', '/v1/dead-letters?cursor=not-a-cursor', admin.auth);
    expect(badCursor.status).toBe(400);
    expect(badCursor.body).toMatchObject({ error: 'invalid_cursor', details: [{ path: 'cursor' }] });
    expect((await inject(app, 'POST', `/v1/dead-letters/${randomUUID()}/retry`, admin.auth)).status).toBe(404);
    expect((await inject(app, 'DELETE', `/v1/dead-letters/${randomUUID()}`, admin.auth, { reason: 'obsolete' })).status).toBe(404);
    const noReason = await inject(app, 'DELETE', `/v1/dead-letters/${randomUUID()}`, admin.auth, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.details[0].path).toBe('reason');
  });

  it('replay: by ids and by filter; an empty filter is refused', async () => {
    const c = await customer();
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);
    const byIds = await inject(app, 'POST', '/v1/events/replay', admin.auth, { eventIds: [event.id] });
    expect(byIds.status).toBe(200);
    expect(byIds.body).toEqual({ replayed: 1 });
    const byFilter = await inject(app, 'POST', '/v1/events/replay', admin.auth, { filter: { userId: c.userId } });
    expect(byFilter.status).toBe(200);
    expect(byFilter.body.replayed).toBeGreaterThanOrEqual(1);
    const empty = await inject(app, 'POST', '/v1/events/replay', admin.auth, { filter: {} });
    expect(empty.status).toBe(400);
  });
});
