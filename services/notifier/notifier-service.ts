import type { AppContext } from '../../lib/app-context.js';
import type { ChannelSet } from '../../lib/channels/channel.js';
import { Notifier, type NotifierOptions } from '../../lib/notifications/notifier.js';
import { defaultRetrySchedules } from '../../lib/queues/retry-policy.js';

export async function startNotifier(ctx: AppContext, channels: ChannelSet, extra: Partial<NotifierOptions> = {}): Promise<Notifier> {
  const c = ctx.config;
  const notifier = new Notifier({
    pool: ctx.pool,
    bus: ctx.bus,
    channels,
    logger: ctx.logger.child({ component: 'notifier' }),
    instanceId: c.HERALD_INSTANCE_ID,
    retrySchedules: defaultRetrySchedules,
    timing: {
      sweeperGraceMs: c.SWEEPER_GRACE_MS,
      sweeperIntervalMs: c.SWEEPER_INTERVAL_MS,
      sweeperBatchSize: c.SWEEPER_BATCH_SIZE,
      maxProcessAttempts: c.EVENT_MAX_PROCESS_ATTEMPTS,
      deliveryPollIntervalMs: c.DELIVERY_POLL_INTERVAL_MS,
      deliveryStaleMs: c.DELIVERY_STALE_MS,
      sendTimeoutMs: c.DELIVERY_SEND_TIMEOUT_MS,
      concurrency: c.DELIVERY_CONCURRENCY,
    },
    retryQueue: { connection: { url: c.REDIS_URL, maxRetriesPerRequest: null } },
    ...extra,
  });
  await notifier.start();
  return notifier;
}
