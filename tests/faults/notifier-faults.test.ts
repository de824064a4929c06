import { execSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync as touch } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { createRedis } from '../../lib/redis.js';
import { testContext, transactionCompleted } from '../support/harness.js';
import { cleanupScenario, drainAndVerify, prepareScenario, publishBurst, spawnNotifier, type NotifierChild, type Verdict } from './support/fault-harness.js';

const events = Number(process.env.FAULT_EVENTS ?? 1_000);
const events_ = events;
const results: Record<string, Verdict> = {};
let ctx: AppContext;
const children: NotifierChild[] = [];

async function notifiers(n: number, env: Record<string, string>) {
  const started = await Promise.all(Array.from({ length: n }, () => spawnNotifier(env)));
  children.push(...started);
  return started;
}

async function scenario(
  name: string,
  body: (s: Awaited<ReturnType<typeof prepareScenario>>) => Promise<void>,
  bounds: { maxDuplicates: number; permanentFailures?: boolean; verify?: (s: Awaited<ReturnType<typeof prepareScenario>>) => Promise<void> },
) {
  const s = await prepareScenario(ctx);
  try {
    await body(s);
    const verdict = await drainAndVerify(ctx, s);
    results[name] = verdict;
    expect(verdict.terminal).toBe(verdict.expected);
    expect(verdict.lost).toBe(0);
    if (bounds.permanentFailures) {
      expect(verdict.failed).toBeGreaterThan(0);
      expect(verdict.delivered + verdict.failed).toBe(verdict.expected);
    } else {
      expect(verdict.delivered).toBe(verdict.expected);
    }
    expect(verdict.duplicated).toBeLessThanOrEqual(bounds.maxDuplicates);
    expect(verdict.maxSendsPerDelivery).toBeLessThanOrEqual(bounds.maxDuplicates > 0 ? 2 : 1);
    expect(verdict.incomplete).toBe(0);
    expect(verdict.lifecycleMismatches).toBe(0);
    await bounds.verify?.(s);
  } finally {
    await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
    await cleanupScenario(ctx, s);
  }
}

beforeAll(() => {
  ctx = testContext();
});
afterAll(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
  mkdirSync('test-artifacts', { recursive: true });
  writeFileSync('test-artifacts/faults.json', JSON.stringify(results, null, 2));
  console.table(results);
  await ctx.close();
});

describe.sequential(`fault injection (${events} events × 3 channels each)`, { timeout: 180_000 }, () => {
  it('SIGKILL of a notifier mid-burst: nothing lost; only sends in flight at the kill may repeat, once', async () => {
    await scenario('sigkill notifier mid-burst', async (s) => {
      const [victim] = await notifiers(2, s.env);
      await publishBurst(ctx, s, events, async (published) => {
        if (published === Math.floor(events / 2 / 50) * 50) {
          await victim!.kill('SIGKILL');
          children.push(await spawnNotifier(s.env));
        }
      });
    }, { maxDuplicates: 64 + 500 });
  });

  it('CLIENT KILL TYPE pubsub mid-burst: the sweeper covers every dropped hint', async () => {
    const admin = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    await scenario('client kill pubsub mid-burst', async (s) => {
      await notifiers(2, s.env);
      await publishBurst(ctx, s, events, async (published) => {
        if (published % 300 === 0) await admin.client('KILL', 'TYPE', 'pubsub');
      });
    }, { maxDuplicates: 0 });
    admin.disconnect();
  });

  it('providers failing 30% of sends transiently: every delivery ends SENT exactly once', async () => {
    await scenario('30% transient provider failures', async (s) => {
      await notifiers(2, { ...s.env, TRANSIENT_RATE: '0.3' });
      await publishBurst(ctx, s, events);
    }, { maxDuplicates: 0 });
  });

  it('three notifier instances at once: each delivery handed to its provider once', async () => {
    await scenario('three notifier instances', async (s) => {
      await notifiers(3, s.env);
      await publishBurst(ctx, s, events);
    }, { maxDuplicates: 0 });
  });

  it('SIGTERM under load: the stopping instance drains in-flight sends; nothing lost or repeated', async () => {
    await scenario('sigterm under load', async (s) => {
      const [stopping] = await notifiers(2, s.env);
      await publishBurst(ctx, s, events, async (published) => {
        if (published === Math.floor(events / 2 / 50) * 50) await stopping!.kill('SIGTERM');
      });
    }, { maxDuplicates: 0 });
  });

  it('a real Redis restart mid-burst: events keep being stored; sweeper and poller finish the work', async () => {
    await scenario('redis restart mid-burst', async (s) => {
      await notifiers(2, s.env);
      await publishBurst(ctx, s, events, async (published) => {
        if (published === Math.floor(events / 2 / 50) * 50) restartRedis();
      });
    }, { maxDuplicates: 0 });
  });

  it('SIGKILL between commit and publish: the stored events are swept and delivered once', async () => {
    await scenario('sigkill between commit and publish', async (s) => {
      await notifiers(2, s.env);
      const accounts = (s as unknown as { accounts: { userId: string; accountNumber: string }[] }).accounts;
      const events = Array.from({ length: events_ }, (_, i) => transactionCompleted(accounts[i % accounts.length]!));
      const child = spawn(process.execPath, ['--import', 'tsx', 'tests/faults/support/crash-after-commit.ts'], { stdio: ['pipe', 'inherit', 'inherit'], env: process.env });
      child.stdin.end(events.map((e) => JSON.stringify(e)).join('\n'));
      const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
      expect(signal).toBe('SIGKILL');
      s.eventIds.push(...events.map((e) => e.id));
    }, { maxDuplicates: 0 });
  });

  it('a real Postgres restart mid-burst: publishers retry, notifiers reconnect, nothing lost or repeated', async () => {
    await scenario('postgres restart mid-burst', async (s) => {
      await notifiers(2, s.env);
      await publishBurst(ctx, s, events, async (published) => {
        if (published === Math.floor(events / 2 / 50) * 50) restartPostgres();
      });
    }, { maxDuplicates: 0 });
  });

  it('a provider outage followed by recovery: deliveries wait in RETRYING and all go out once', async () => {
    const flag = path.join(tmpdir(), `herald-outage-${randomUUID()}`);
    touch(flag, 'down');
    await scenario('provider outage then recovery', async (s) => {
      await notifiers(2, { ...s.env, OUTAGE_FLAG: flag });
      await publishBurst(ctx, s, events);
      await new Promise((r) => setTimeout(r, 2_000));
      rmSync(flag, { force: true });
    }, { maxDuplicates: 0 });
    rmSync(flag, { force: true });
  });

  it('permanent provider errors: FAILED at once, never retried, everything else sent once', async () => {
    await scenario('10% permanent errors', async (s) => {
      await notifiers(2, { ...s.env, PERMANENT_RATE: '0.1' });
      await publishBurst(ctx, s, events);
    }, {
      maxDuplicates: 0,
      permanentFailures: true,
      verify: async (s) => {
        // The provider refuses about one delivery in ten (3,000 deliveries: 10 % ± 0.6 % at one
        // standard deviation), so the rest must have been sent, not failed with them.
        const { rows: failedRows } = await ctx.pool.query(
          `SELECT count(*) FILTER (WHERE d.status = 'FAILED')::int AS failed, count(*)::int AS total
             FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.event_id = ANY($1::uuid[])`,
          [s.eventIds],
        );
        expect(failedRows[0].failed / failedRows[0].total).toBeGreaterThan(0.05);
        expect(failedRows[0].failed / failedRows[0].total).toBeLessThan(0.15);
        // Permanent means one attempt: no FAILED delivery of this scenario was tried twice.
        const { rows } = await ctx.pool.query(
          `SELECT count(*)::int AS n FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
            WHERE n.event_id = ANY($1::uuid[]) AND d.status = 'FAILED' AND d.attempts <> 1`,
          [s.eventIds],
        );
        expect(rows[0].n).toBe(0);
      },
    });
  });

  it('a poison event is isolated and quarantined; the events around it are delivered', async () => {
    await scenario('poison payload', async (s) => {
      await notifiers(1, s.env);
      const poison = randomUUID();
      // Bypasses validation on purpose: a row no publisher could write, as corruption would.
      await ctx.pool.query(
        `WITH stored AS (
           INSERT INTO domain_events (id, type, aggregate_type, aggregate_id, source, payload, metadata, occurred_at)
           VALUES ($1, 'transaction.completed', 'transaction', 'poison', 'test', 'null', '{"source":"test"}', now())
           RETURNING id, stored_at)
         INSERT INTO event_outbox (event_id, stored_at) SELECT id, stored_at FROM stored`,
        [poison],
      );
      await ctx.bus.broadcast([{ id: poison, type: 'transaction.completed', aggregateType: 'transaction' } as never]);
      await publishBurst(ctx, s, Math.min(events, 200));
      const quarantined = await waitForQuarantine(poison);
      expect(quarantined.attempts).toBe(5);
      expect(quarantined.last_error).toMatch(/^notifications\.fan-out: /);
      await ctx.pool.query('DELETE FROM domain_events WHERE id = $1', [poison]);
    }, { maxDuplicates: 0 });
  });
});

function restartRedis(): void {
  const port = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || '6379';
  execSync(`redis-cli -p ${port} shutdown nosave || true`, { stdio: 'ignore' });
  execSync(`redis-server --daemonize yes --bind 127.0.0.1 -::1 --port ${port} --save "" --appendonly no`, { stdio: 'ignore' });
  execSync(`for i in $(seq 1 50); do redis-cli -p ${port} ping >/dev/null 2>&1 && break; sleep 0.1; done`, { stdio: 'ignore', shell: '/bin/bash' });
}

function restartPostgres(): void {
  execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -n1) main restart', { stdio: 'ignore', shell: '/bin/bash' });
}

async function waitForQuarantine(id: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await ctx.pool.query('SELECT quarantined_at, attempts, last_error FROM event_outbox WHERE event_id = $1', [id]);
    if (rows[0]?.quarantined_at) return rows[0];
    if (Date.now() > deadline) throw new Error(`poison event not quarantined: ${JSON.stringify(rows[0])}`);
    // Speed the sweeper's backoff up; the attempt count is what is under test.
    await ctx.pool.query('UPDATE event_outbox SET retry_at = NULL WHERE event_id = $1 AND quarantined_at IS NULL', [id]);
    await new Promise((r) => setTimeout(r, 200));
  }
}
