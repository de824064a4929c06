import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AppContext } from '../../../lib/app-context.js';
import { createCustomer, deleteCustomer, transactionCompleted } from '../../support/harness.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../../..');

export interface NotifierChild {
  process: ChildProcess;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts a notifier as its own OS process (so that it can really be kill -9'd). */
export async function spawnNotifier(env: Record<string, string>): Promise<NotifierChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'notifier-process.ts')], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'error', HERALD_INSTANCE_ID: `fault-${randomUUID().slice(0, 6)}`, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('notifier did not start within 20 s')), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`notifier exited early with ${code}`)));
  });
  return {
    process: child,
    kill: (signal) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

export interface Scenario {
  sendLog: string;
  userIds: string[];
  eventIds: string[];
  env: Record<string, string>;
}

export async function prepareScenario(ctx: AppContext, customers = 20): Promise<Scenario> {
  const sendLog = path.join(tmpdir(), `herald-sends-${randomUUID()}.jsonl`);
  const userIds: string[] = [];
  const accounts: { userId: string; accountNumber: string }[] = [];
  for (let i = 0; i < customers; i++) {
    const c = await createCustomer(ctx);
    userIds.push(c.userId);
    accounts.push(c);
  }
  return {
    sendLog,
    userIds,
    eventIds: [],
    env: { SEND_LOG: sendLog, SWEEPER_GRACE_MS: '500', DELIVERY_STALE_MS: '3000' },
    ...{ accounts },
  } as Scenario & { accounts: typeof accounts };
}

/** Publishes `count` transaction events (each routed to push, email and SMS), `onProgress` after each chunk. */
export async function publishBurst(ctx: AppContext, scenario: Scenario, count: number, onProgress?: (published: number) => Promise<void>): Promise<void> {
  const accounts = (scenario as Scenario & { accounts: { userId: string; accountNumber: string }[] }).accounts;
  for (let i = 0; i < count; i += 50) {
    const chunk = Array.from({ length: Math.min(50, count - i) }, (_, j) => transactionCompleted(accounts[(i + j) % accounts.length]!));
    // A publisher retries what failed (Postgres restarting); the event id makes that safe.
    await Promise.all(chunk.map((e) => publishWithRetry(ctx, e)));
    scenario.eventIds.push(...chunk.map((e) => e.id));
    await onProgress?.(i + chunk.length);
  }
}

async function publishWithRetry(ctx: AppContext, event: Parameters<AppContext['bus']['publish']>[0]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await ctx.bus.publish(event);
      return;
    } catch (error) {
      if (attempt >= 60) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export interface Verdict {
  events: number;
  expected: number;
  terminal: number;
  delivered: number;
  failed: number;
  lost: number;
  duplicated: number;
  maxSendsPerDelivery: number;
  /** Notifications whose deliveries are all final but which were never completed. */
  incomplete: number;
  /** Notifications without exactly one notification.sent/failed event. */
  lifecycleMismatches: number;
  drainMs: number;
}

/** Waits until every delivery of the scenario is terminal, then counts what the providers saw. */
export async function drainAndVerify(ctx: AppContext, scenario: Scenario, timeoutMs = 90_000): Promise<Verdict> {
  const started = Date.now();
  const expected = scenario.eventIds.length * 3;
  let terminal = 0;
  let rows: { id: string; status: string }[] = [];
  while (Date.now() - started < timeoutMs) {
    rows = (await ctx.pool.query<{ id: string; status: string }>(
      `SELECT d.id, d.status FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
        WHERE n.event_id = ANY($1::uuid[])`, [scenario.eventIds])).rows;
    terminal = rows.filter((r) => ['SENT', 'DELIVERED', 'SKIPPED', 'FAILED', 'DEAD_LETTERED'].includes(r.status)).length;
    if (rows.length === expected && terminal === expected) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const drainMs = Date.now() - started;
  const sends = new Map<string, number>();
  if (existsSync(scenario.sendLog)) {
    for (const line of readFileSync(scenario.sendLog, 'utf8').split('\n')) {
      if (!line) continue;
      const { deliveryId } = JSON.parse(line) as { deliveryId: string };
      sends.set(deliveryId, (sends.get(deliveryId) ?? 0) + 1);
    }
  }
  const sent = rows.filter((r) => r.status === 'SENT');
  // The completing write commits with the last delivery's final status, so by now every
  // notification must be complete and announced once.
  const notifications = (await ctx.pool.query<{ completed: boolean; announced: number }>(
    `WITH n AS (SELECT id, completed_at FROM notifications WHERE event_id = ANY($1::uuid[]))
     SELECT n.completed_at IS NOT NULL AS completed, coalesce(a.announced, 0)::int AS announced
       FROM n LEFT JOIN (
         SELECT e.aggregate_id, count(*) AS announced FROM domain_events e
          WHERE e.type IN ('notification.sent', 'notification.failed') AND e.aggregate_id IN (SELECT id::text FROM n)
          GROUP BY e.aggregate_id) a ON a.aggregate_id = n.id::text`, [scenario.eventIds])).rows;
  return {
    events: scenario.eventIds.length,
    expected,
    terminal,
    delivered: sent.filter((r) => sends.has(r.id)).length,
    failed: rows.filter((r) => r.status === 'FAILED').length,
    lost: expected - terminal + sent.filter((r) => !sends.has(r.id)).length,
    duplicated: [...sends.values()].filter((n) => n > 1).length,
    maxSendsPerDelivery: Math.max(0, ...sends.values()),
    incomplete: notifications.filter((n) => !n.completed).length,
    lifecycleMismatches: notifications.filter((n) => n.announced !== 1).length,
    drainMs,
  };
}

export async function cleanupScenario(ctx: AppContext, scenario: Scenario): Promise<void> {
  for (const userId of scenario.userIds) await deleteCustomer(ctx, userId);
  rmSync(scenario.sendLog, { force: true });
}
