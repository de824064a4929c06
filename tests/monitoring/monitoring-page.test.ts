import { execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import type { Channel, ChannelSet, OutboundMessage } from '../../lib/channels/channel.js';
import { TransientDeliveryError } from '../../lib/channels/delivery-errors.js';
import { SandboxChannel } from '../../lib/channels/sandbox-channel.js';
import type { Notifier } from '../../lib/notifications/notifier.js';
import { createStatusFeedPublisher } from '../../lib/notifications/status-feed.js';
import { buildServer } from '../../services/api/server.js';
import { inject, TestKeys } from '../api/api-support.js';
import { createCustomer, deleteCustomer, deliveriesOf, startTestNotifier, testContext, transactionCompleted, waitFor } from '../support/harness.js';

const chromiumPath = '/usr/bin/chromium';

/** The test command runs on fresh machines: install Debian's chromium when it is missing and we can. */
function ensureChromium(): string | null {
  if (existsSync(chromiumPath)) return null;
  try {
    execSync('command -v apt-get', { stdio: 'ignore' });
  } catch {
    return 'apt-get is not available to install chromium';
  }
  try {
    execSync('apt-get update -qq && apt-get install -y -qq chromium', { stdio: 'ignore', timeout: 300_000 });
  } catch (error) {
    return `apt-get install chromium failed: ${(error as Error).message.split('\n')[0]}`;
  }
  return existsSync(chromiumPath) ? null : `apt-get installed chromium but ${chromiumPath} is missing`;
}
const unavailable = ensureChromium();
if (unavailable) console.warn(`[monitoring-page] SKIPPED: no browser at ${chromiumPath} (${unavailable})`);

/** An SMS channel that always fails transiently, so its deliveries end dead-lettered. */
function failingSms(): Channel<'sms'> {
  const inner = new SandboxChannel('sms');
  return {
    name: 'sms',
    canReach: (r) => inner.canReach(r),
    classify: (e) => inner.classify(e),
    async send(_message: OutboundMessage<'sms'>) {
      throw new TransientDeliveryError('gateway_busy', 'gateway busy');
    },
  };
}

let ctx: AppContext;
let app: FastifyInstance;
let keys: TestKeys;
let notifier: Notifier | null = null;
let browser: Browser;
let page: Page;
let baseUrl: string;
let admin: Awaited<ReturnType<TestKeys['create']>>;
let reader: Awaited<ReturnType<TestKeys['create']>>;
const users: string[] = [];
const consoleErrors: string[] = [];

describe.skipIf(unavailable)('monitoring page in a real browser', () => {
  beforeAll(async () => {
    ctx = testContext();
    app = await buildServer(ctx);
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    keys = new TestKeys(ctx);
    reader = await keys.create(['read']);
    admin = await keys.create(['admin']);

    // The notifier publishes each committed outcome on the live feed (as services/notifier does).
    const publish = createStatusFeedPublisher(ctx.redis, { lingerMs: 5 });
    const channels: ChannelSet = { push: new SandboxChannel('push'), email: new SandboxChannel('email'), sms: failingSms() };
    notifier = await startTestNotifier(ctx, channels, undefined, {
      onOutcome: (outcome) => {
        ctx.pool
          .query(`SELECT notification_id, event_type, user_id, channel FROM notification_deliveries WHERE id = $1`, [outcome.id])
          .then(({ rows }) => {
            const r = rows[0];
            if (r) {
              publish({
                deliveryId: outcome.id, notificationId: r.notification_id, eventType: r.event_type, userId: r.user_id,
                channel: r.channel, status: outcome.status, at: new Date().toISOString(),
              });
            }
          })
          .catch(() => {});
      },
    });

    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await notifier?.stop();
    for (const id of users) await deleteCustomer(ctx, id);
    await keys?.cleanup();
    await app?.close();
    await ctx?.close();
  });

  const num = (text: string | null) => Number((text ?? '').replace(/[^\d.]/g, ''));

  it('loads without a key, asks for one and rejects a bad one', async () => {
    const response = await page.goto(baseUrl + '/');
    expect(response?.status()).toBe(200);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#api-key', 'hrld_wrong');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-error').waitFor({ state: 'visible' });
    expect(await page.textContent('#login-error')).toMatch(/unknown|revoked|rejected/i);
    // A read key alone cannot list dead letters; the admin key is what the operator uses.
    expect((await inject(app, 'GET', '/v1/dead-letters', reader.auth)).status).toBe(403);
    consoleErrors.length = 0; // the rejected key's 401 is expected
    await page.fill('#api-key', admin.key);
    await page.click('#login-form button[type=submit]');
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('#feed-state.live').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('herald.apiKey'))).toBe(admin.key);
  });

  it('shows a new live-feed row when an event is published, and the SMS dead letter in "needs attention"', async () => {
    const c = await createCustomer(ctx);
    users.push(c.userId);
    const event = transactionCompleted(c);
    await ctx.bus.publish(event);
    await page.locator('#feed tbody tr', { hasText: c.userId }).first().waitFor({ timeout: 15_000 });

    const dead = await waitFor(async () => (await deliveriesOf(ctx, event.id)).find((d) => d.channel === 'sms' && d.status === 'DEAD_LETTERED'), 20_000, 'sms dead letter');
    await page.locator(`#feed tbody tr[data-delivery-id="${dead.id}"][data-status="DEAD_LETTERED"]`).waitFor({ timeout: 10_000 });

    // Stop sending so the numbers hold still and the retried delivery stays where Retry puts it.
    await notifier!.stop();
    notifier = null;

    // Changing the window refreshes the overview and the dead letters.
    await page.selectOption('#window', '1h');
    const row = page.locator(`#dead-letters tbody tr[data-delivery-id="${dead.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('transaction.completed');

    const stats = (await inject(app, 'GET', '/v1/stats?window=1h', admin.auth)).body;
    await expect.poll(async () => num(await page.textContent('#stat-total')), { timeout: 5_000 }).toBe(stats.deliveries.total);
    expect(num(await page.textContent('#stat-sent'))).toBe(stats.deliveries.sent);
    expect(num(await page.textContent('#stat-failed'))).toBe(stats.deliveries.failed + stats.deliveries.deadLettered);
    const rate = stats.deliveries.successRate as number | null;
    expect(await page.textContent('#stat-success')).toBe(rate == null ? '–' : `${(rate * 100).toFixed(rate < 1 && rate >= 0.99 ? 2 : 1)}%`);
    for (const channel of ['push', 'email', 'sms']) {
      const cells = await page.locator(`#channels tr[data-channel="${channel}"] td`).allTextContents();
      expect(num(cells[1]!)).toBe(stats.byChannel[channel].total);
      expect(num(cells[2]!)).toBe(stats.byChannel[channel].sent);
    }

    // Search by event id shows the full trace, including the SMS attempts.
    await page.fill('#search-input', event.id);
    await page.click('#search button[type=submit]');
    await page.locator(`#search-result [data-delivery-id="${dead.id}"]`).waitFor({ timeout: 5_000 });
    expect(await page.locator(`#search-result [data-delivery-id="${dead.id}"] li`).count()).toBe(3);

    await page.screenshot({ path: 'test-artifacts/monitoring-before-retry.png', fullPage: true });

    // One click retries it: the delivery is back in the send path.
    await row.locator('button.retry').click();
    const retried = await waitFor(async () => {
      const { rows } = await ctx.pool.query<{ status: string }>(`SELECT status FROM notification_deliveries WHERE id = $1`, [dead.id]);
      return ['PENDING', 'RETRYING'].includes(rows[0]!.status) && rows[0]!.status;
    }, 10_000, 'retried delivery');
    expect(['PENDING', 'RETRYING']).toContain(retried);
    await row.waitFor({ state: 'detached', timeout: 5_000 });
  }, 90_000);

  it('draws both charts, has no console errors, and saves a screenshot', async () => {
    await page.selectOption('#window', '24h');
    await page.waitForTimeout(500);
    const drawn = await page.evaluate(() =>
      ['#chart-hour', '#chart-type'].map((s) => {
        const canvas = document.querySelector<HTMLCanvasElement>(s)!;
        return canvas.width > 0 && canvas.height > 0 && (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart.getChart(canvas) != null;
      }),
    );
    expect(drawn).toEqual([true, true]);
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/monitoring.png', fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('the queue UI needs an admin session: the page signs in with an HttpOnly cookie', async () => {
    expect((await inject(app, 'GET', '/admin/queues/')).status).toBe(401);
    expect((await inject(app, 'GET', '/admin/queues/', reader.auth)).status).toBe(403);
    const popup = page.waitForEvent('popup');
    await page.click('#open-queues');
    const queues = await popup;
    await queues.waitForLoadState('domcontentloaded');
    await queues.getByText('herald-delivery-retries').first().waitFor({ timeout: 10_000 });
    const cookies = await page.context().cookies(baseUrl + '/admin/queues/');
    const session = cookies.find((c) => c.name === 'herald_admin');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin/queues' });
    expect(session!.value).not.toContain(admin.key);
    await queues.close();
  });
});
