import type { AppContext } from '../../lib/app-context.js';
import { EventProcessor } from '../../lib/events/event-processor.js';
import { notificationHandlers } from '../../lib/notifications/notifier.js';
import { statsRollupJobs } from '../../lib/notifications/stats-rollup.js';
import { Scheduler } from '../../lib/scheduling/scheduler.js';

/**
 * Cron-driven work. The outbox sweep processes events whose hint was lost; the deliveries it
 * creates stay PENDING for the notifiers' due-delivery pollers, so this process needs no channel.
 * It also folds the stats rollup's deltas (see lib/notifications/stats-rollup.ts).
 */
export function startScheduler(ctx: AppContext, options: { outboxSweep?: string } = {}): Scheduler {
  const c = ctx.config;
  const logger = ctx.logger.child({ component: 'scheduler' });
  const processor = new EventProcessor({
    pool: ctx.pool,
    handlers: notificationHandlers({ logger }),
    logger,
    graceMs: c.SWEEPER_GRACE_MS,
    batchSize: c.SWEEPER_BATCH_SIZE,
    maxAttempts: c.EVENT_MAX_PROCESS_ATTEMPTS,
  });
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
  ]);
  return scheduler;
}
