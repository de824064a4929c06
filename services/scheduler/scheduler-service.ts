import type { AppContext } from '../../lib/app-context.js';
import { AccountDiscovery } from '../../lib/banking/account-discovery.js';
import { BalanceSync } from '../../lib/banking/balance-sync.js';
import { startBankingHints } from '../../lib/banking/banking-hints.js';
import type { CoreBanking } from '../../lib/banking/core-banking.js';
import { EventProcessor } from '../../lib/events/event-processor.js';
import { notificationHandlers } from '../../lib/notifications/notifier.js';
import { statsRollupJobs } from '../../lib/notifications/stats-rollup.js';
import { Scheduler } from '../../lib/scheduling/scheduler.js';

export interface SchedulerServiceOptions {
  coreBanking: CoreBanking;
  outboxSweep?: string;
}

export interface SchedulerService {
  scheduler: Scheduler;
  balanceSync: BalanceSync;
  discovery: AccountDiscovery;
  stop(): Promise<void>;
}

/**
 * Cron-driven work. The outbox sweep processes events whose hint was lost; the deliveries it
 * creates stay PENDING for the notifiers' due-delivery pollers, so this process needs no channel.
 * It also folds the stats rollup's deltas (see lib/notifications/stats-rollup.ts), and runs the
 * banking flows: balance sync and account discovery, each a pub/sub hint backed by a cron sweep.
 */
export async function startScheduler(ctx: AppContext, options: SchedulerServiceOptions): Promise<SchedulerService> {
  const c = ctx.config;
  const logger = ctx.logger.child({ component: 'scheduler' });
  const processor = new EventProcessor({
    pool: ctx.pool,
    handlers: notificationHandlers({ logger, broadcast: (events) => ctx.bus.broadcast(events) }),
    logger,
    graceMs: c.SWEEPER_GRACE_MS,
    batchSize: c.SWEEPER_BATCH_SIZE,
    maxAttempts: c.EVENT_MAX_PROCESS_ATTEMPTS,
  });
  const banking = { pool: ctx.pool, bus: ctx.bus, coreBanking: options.coreBanking };
  const balanceSync = new BalanceSync({ ...banking, logger: logger.child({ flow: 'balance-sync' }) });
  const discovery = new AccountDiscovery({ ...banking, logger: logger.child({ flow: 'account-discovery' }), retryMs: c.ACCOUNT_DISCOVERY_RETRY_MS });

  const scheduler = new Scheduler(ctx.redis, logger);
  scheduler.start([
    {
      name: 'outbox-sweep',
      schedule: options.outboxSweep ?? '*/10 * * * * *',
      lockTtlMs: 60_000,
      run: async () => {
        const { processed, failed } = await processor.sweepAll();
        if (processed + failed > 0) logger.info({ processed, failed }, 'outbox sweep');
      },
    },
    ...statsRollupJobs(ctx.pool, logger, c.STATS_ROLLUP_INTERVAL_SEC),
    {
      name: 'balance-sync',
      schedule: c.BALANCE_SYNC_CRON,
      // A full sync of a large book can take minutes; the lock must outlive it.
      lockTtlMs: 30 * 60_000,
      run: async () => {
        const outcome = await balanceSync.run('schedule');
        logger.info({ ...outcome }, 'balance sync');
      },
    },
    {
      name: 'account-discovery-sweep',
      schedule: c.ACCOUNT_DISCOVERY_SWEEP_CRON,
      lockTtlMs: 10 * 60_000,
      run: async () => {
        const outcome = await discovery.sweepAll();
        if (outcome.claimed > 0) logger.info(outcome, 'account discovery sweep');
      },
    },
  ]);
  const hints = await startBankingHints({
    bus: ctx.bus,
    redis: ctx.redis,
    logger,
    balanceSync,
    discovery,
    coalesceMs: c.BALANCE_SYNC_COALESCE_MS,
  });
  return {
    scheduler,
    balanceSync,
    discovery,
    async stop() {
      await hints.stop();
      await scheduler.stop();
    },
  };
}
