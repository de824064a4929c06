import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { createCustomer, deleteCustomer, testContext, transactionCompleted } from '../support/harness.js';

const run = promisify(execFile);
let ctx: AppContext;
let userId: string;

async function cli(...args: string[]) {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/dead-letters.ts', ...args], { env: process.env });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/** A delivery that exhausted its attempts, written the way the dispatcher leaves one. */
async function deadLetter(): Promise<string> {
  const event = transactionCompleted({ userId, accountNumber: '100200300400' });
  await ctx.bus.publish(event);
  const notificationId = randomUUID();
  const deliveryId = randomUUID();
  await ctx.pool.query(
    `INSERT INTO notifications (id, event_id, user_id, event_type, priority, locale, completed_at, outcome)
     VALUES ($1, $2, $3, 'transaction.completed', 'normal', 'en', now(), 'failed')`,
    [notificationId, event.id, userId],
  );
  await ctx.pool.query(
    `INSERT INTO notification_deliveries (id, notification_id, channel, status, user_id, event_type, priority, content, attempts, last_error)
     VALUES ($1, $2, 'sms', 'DEAD_LETTERED', $3, 'transaction.completed', 'normal', '{"text":"hi"}', 10, 'gateway busy')`,
    [deliveryId, notificationId, userId],
  );
  await ctx.pool.query(`INSERT INTO dead_letters (delivery_id, channel, reason, last_error, attempts) VALUES ($1, 'sms', 'retries_exhausted', 'gateway busy', 10)`, [deliveryId]);
  return deliveryId;
}

beforeAll(async () => {
  ctx = testContext();
  userId = (await createCustomer(ctx)).userId;
});
afterAll(async () => {
  await deleteCustomer(ctx, userId);
  await ctx.close();
});

describe('npm run dead-letters', () => {
  it('lists, shows, retries and discards', async () => {
    const [a, b] = [await deadLetter(), await deadLetter()];
    const list = await cli('list', '--user', userId);
    expect(list.code).toBe(0);
    expect(list.out).toContain(a);
    expect(list.out).toContain(b);
    expect(list.out).toMatch(/2 dead letter\(s\)/);

    const show = await cli('show', a);
    expect(JSON.parse(show.out)).toMatchObject({ deliveryId: a, channel: 'sms', attempts: 10, lastError: 'gateway busy' });

    const retry = await cli('retry', a);
    expect(retry.out).toContain('retried 1');
    const row = (await ctx.pool.query('SELECT status, attempts FROM notification_deliveries WHERE id = $1', [a])).rows[0];
    expect(row).toEqual({ status: 'PENDING', attempts: 0 });
    // The notification is open again (it completes and announces anew) and the history says why.
    const notification = (await ctx.pool.query(
      'SELECT n.completed_at, n.outcome FROM notifications n JOIN notification_deliveries d ON d.notification_id = n.id WHERE d.id = $1', [a],
    )).rows[0];
    expect(notification).toEqual({ completed_at: null, outcome: null });
    const history = await ctx.pool.query('SELECT status, attempt, error FROM notification_history WHERE delivery_id = $1', [a]);
    expect(history.rows).toEqual([{ status: 'PENDING', attempt: 0, error: 'retried by operator' }]);

    expect((await cli('discard', b)).out).toContain('--reason: is required');
    const discard = await cli('discard', b, '--reason', 'customer closed the account');
    expect(discard.code).toBe(0);
    expect((await cli('list', '--user', userId)).out).toMatch(/0 dead letter\(s\)/);
    await ctx.pool.query('DELETE FROM notification_deliveries WHERE id = ANY($1::uuid[])', [[a, b]]);
  });

  it('rejects bad input with the field named and a non-zero exit', async () => {
    expect(await cli('show', 'not-an-id')).toMatchObject({ code: 1, out: expect.stringContaining('not a delivery id: not-an-id') });
    expect(await cli('list', '--channel', 'fax')).toMatchObject({ code: 1, out: expect.stringContaining('--channel: must be one of push, email, sms') });
    expect(await cli('list', '--limit', '0')).toMatchObject({ code: 1, out: expect.stringContaining('--limit') });
  });
});
