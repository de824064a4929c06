import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { Channel, ChannelSet, OutboundMessage } from '../../lib/channels/channel.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../../lib/channels/delivery-errors.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import { replayEvents } from '../../lib/events/replay.js';
import type { Notifier } from '../../lib/notifications/notifier.js';
import { discardDeadLetter, listDeadLetters, retryDeadLetters, showDeadLetter } from '../../lib/queues/dead-letters.js';
import { RetryQueue, retryJobId, retryQueueName } from '../../lib/queues/retry-queue.js';
import { createMetrics } from '../../lib/api/metrics.js';
import { createCustomer, deleteCustomer, deliveriesOf, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';

let ctx: AppContext;
const customers: string[] = [];
const running: Notifier[] = [];
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** An SMS sandbox whose behaviour per call the test scripts: 'ok', 'transient' or 'permanent'. */
function scriptedSms(script: ('ok' | 'transient' | 'permanent')[], fallback: 'ok' | 'transient' | 'permanent' = 'ok') {
  const inner = new SandboxChannel('sms');
  let call = 0;
  const channel: Channel<'sms'> & { inner: SandboxChannel<'sms'> } = {
    name: 'sms',
    inner,
    canReach: (r) => inner.canReach(r),
    classify: (e) => inner.classify(e),
    async send(message: OutboundMessage<'sms'>) {
      const step = script[call++] ?? fallback;
      if (step === 'transient') throw new TransientDeliveryError('gateway_busy', 'gateway busy');
      if (step === 'permanent') throw new PermanentDeliveryError('invalid_number', 'number does not exist');
      return inner.send(message);
    },
  };
  return channel;
}

async function start(sms: Channel<'sms'>) {
  const channels: ChannelSet = { push: new SandboxChannel('push'), email: new SandboxChannel('email'), sms };
  const n = await startTestNotifier(ctx, channels, undefined, { retryQueue: { connection: { url: redisUrl, maxRetriesPerRequest: null } } });
  running.push(n);
  return n;
}
async function publishFor() {
  const c = await createCustomer(ctx);
  customers.push(c.userId);
  const event = transactionCompleted(c);
  await ctx.bus.publish(event);
  return event;
}
async function smsDelivery(eventId: string, status: string) {
  return waitFor(async () => (await deliveriesOf(ctx, eventId)).find((d) => d.channel === 'sms' && d.status === status), 15_000, `sms ${status}`);
}
const historyOf = async (id: string) =>
  (await ctx.pool.query('SELECT attempt, status, error_code FROM notification_history WHERE delivery_id = $1 ORDER BY id', [id])).rows;

beforeAll(() => {
  ctx = testContext();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});
afterAll(async () => {
  for (const id of customers) await deleteCustomer(ctx, id);
  await ctx.close();
});

describe('retries through BullMQ', () => {
  it('retries transient failures with backoff until the send succeeds', async () => {
    const sms = scriptedSms(['transient', 'transient', 'ok']);
    await start(sms);
    const event = await publishFor();
    const sent = await smsDelivery(event.id, 'SENT');
    expect(sent.attempts).toBe(3);
    expect((await historyOf(sent.id)).map((h) => [h.attempt, h.status])).toEqual([[1, 'RETRYING'], [2, 'RETRYING'], [3, 'SENT']]);
    expect(sms.inner.timesSent(sent.id)).toBe(1);
  });

  it('does not retry a permanent failure', async () => {
    const sms = scriptedSms(['permanent']);
    await start(sms);
    const event = await publishFor();
    const failed = await smsDelivery(event.id, 'FAILED');
    expect(failed.attempts).toBe(1);
    expect(await historyOf(failed.id)).toEqual([{ attempt: 1, status: 'FAILED', error_code: 'invalid_number' }]);
  });

  it('dead-letters after the last attempt: status, entry, event; then an operator retry sends it once', async () => {
    const sms = scriptedSms([], 'transient');
    await start(sms);
    const event = await publishFor();
    const dead = await smsDelivery(event.id, 'DEAD_LETTERED');
    expect(dead.attempts).toBe(3);

    const listed = await listDeadLetters(ctx.pool, { channel: 'sms', limit: 50 });
    expect(listed.items.map((i) => i.deliveryId)).toContain(dead.id);
    const shown = await showDeadLetter(ctx.pool, dead.id);
    expect(shown?.history.map((h: { status: string }) => h.status)).toEqual(['RETRYING', 'RETRYING', 'DEAD_LETTERED']);
    const deadEvent = await waitFor(async () => (await ctx.pool.query(
      `SELECT payload FROM domain_events WHERE type = 'notification.dead_lettered' AND payload->>'deliveryId' = $1`, [dead.id])).rows[0], 5_000, 'dead-letter event');
    expect(deadEvent.payload).toMatchObject({ channel: 'sms', attempts: 3, lastError: 'gateway busy' });

    // The provider recovers; the operator retries with a fresh budget and the same delivery id.
    await Promise.all(running.splice(0).map((n) => n.stop()));
    const healthy = scriptedSms([], 'ok');
    await start(healthy);
    expect(await retryDeadLetters(ctx.pool, [dead.id, randomUUID()])).toMatchObject({ retried: [dead.id] });
    const sent = await smsDelivery(event.id, 'SENT');
    expect(sent.id).toBe(dead.id);
    expect(healthy.inner.timesSent(dead.id)).toBe(1);
    expect((await listDeadLetters(ctx.pool, { channel: 'sms', limit: 50 })).items.map((i) => i.deliveryId)).not.toContain(dead.id);
    expect(await discardDeadLetter(ctx.pool, dead.id, 'already retried')).toBe(false);
  });

  it('discards a dead letter with a reason, keeping it for audit', async () => {
    const sms = scriptedSms([], 'transient');
    await start(sms);
    const event = await publishFor();
    const dead = await smsDelivery(event.id, 'DEAD_LETTERED');
    expect(await discardDeadLetter(ctx.pool, dead.id, 'customer closed account')).toBe(true);
    const all = await listDeadLetters(ctx.pool, { channel: 'sms', includeResolved: true, limit: 500 });
    expect(all.items.find((i) => i.deliveryId === dead.id)).toMatchObject({ discardReason: 'customer closed account' });
    expect((await retryDeadLetters(ctx.pool, [dead.id])).retried).toEqual([]);
  });

  it('exposes the queue it schedules on, for the metrics to read its depth from', async () => {
    const n = await start(scriptedSms(['ok']));
    expect(n.retryJobs?.name).toBe(retryQueueName);
    const metrics = createMetrics();
    metrics.watchRetryQueue(n.retryJobs!);
    const text = await metrics.registry.metrics();
    for (const state of ['waiting', 'delayed', 'active', 'failed']) expect(text).toMatch(new RegExp(`herald_retry_queue_jobs\\{state="${state}"\\} \\d+`));
  });

  it('enqueues one job when two instances schedule the same retry', async () => {
    const queue = new RetryQueue({ url: redisUrl, maxRetriesPerRequest: null });
    const id = randomUUID();
    const at = new Date(Date.now() + 60_000);
    await Promise.all([queue.schedule(id, 1, at), queue.schedule(id, 1, at), queue.schedule(id, 1, at)]);
    const job = await queue.queue.getJob(retryJobId(id, 1));
    expect(job?.data).toEqual({ deliveryId: id, attempt: 1 });
    const delayed = await queue.queue.getDelayed();
    expect(delayed.filter((j) => j.data.deliveryId === id)).toHaveLength(1);
    await job?.remove();
    await queue.close();
  });

  it('replay resends a failed delivery but never one already SENT', async () => {
    const sms = scriptedSms(['permanent']);
    const n = await start(sms);
    const event = await publishFor();
    const failed = await smsDelivery(event.id, 'FAILED');
    const before = await deliveriesOf(ctx, event.id);
    const pushBefore = before.find((d) => d.channel === 'push')!;
    expect(pushBefore.status).toBe('SENT');

    expect(await replayEvents(ctx, { eventIds: [event.id] })).toEqual({ replayed: 1 });
    const resent = await smsDelivery(event.id, 'SENT');
    expect(resent.id).toBe(failed.id);
    expect(sms.inner.timesSent(failed.id)).toBe(1);
    const history = await ctx.pool.query('SELECT status, attempt, error FROM notification_history WHERE delivery_id = $1 ORDER BY id', [failed.id]);
    expect(history.rows).toContainEqual({ status: 'PENDING', attempt: 0, error: 'replayed' });
    const after = await deliveriesOf(ctx, event.id);
    expect(after.find((d) => d.channel === 'push')).toMatchObject({ id: pushBefore.id, status: 'SENT', attempts: 1 });
    expect(n.dispatcher).toBeDefined();
  });
});
