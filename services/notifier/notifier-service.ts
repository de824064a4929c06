import type { AppContext } from '../../lib/app-context.js';
import type { ChannelSet } from '../../lib/channels/channel.js';
import { createChannelHealth } from '../../lib/channels/channel-health.js';
import { createProviderChannels, type ProviderChannels } from '../../lib/channels/provider-channels.js';
import { loadProviderConfig } from '../../lib/channels/provider-config.js';
import { Notifier, type NotifierOptions } from '../../lib/notifications/notifier.js';
import { defaultRetrySchedules } from '../../lib/queues/retry-policy.js';
import { createStatusFeedPublisher } from '../../lib/notifications/status-feed.js';
import { createOperatorAlerts, type OperatorAlerts } from '../../lib/notifications/operator-alerts.js';

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

/**
 * A notifier on the real provider adapters (sandboxed on loopback where no provider is
 * configured). A configuration error pauses its channel and raises an operator alert.
 */
export async function startNotifierWithProviders(
  ctx: AppContext,
  extra: Partial<NotifierOptions> = {},
): Promise<{ notifier: Notifier; providers: ProviderChannels; alerts: OperatorAlerts }> {
  const providerConfig = loadProviderConfig();
  const providers = await createProviderChannels(providerConfig, ctx.logger);
  const smtp = providerConfig.SMTP_HOST
    ? { host: providerConfig.SMTP_HOST, port: providerConfig.SMTP_PORT, secure: providerConfig.SMTP_SECURE, auth: providerConfig.SMTP_USER ? { user: providerConfig.SMTP_USER, pass: providerConfig.SMTP_PASS! } : undefined }
    : { host: '127.0.0.1', port: providers.sinks.smtp!.port };
  const alerts = createOperatorAlerts({
    logger: ctx.logger,
    email: providerConfig.OPS_ALERT_EMAIL ? { to: providerConfig.OPS_ALERT_EMAIL, from: providerConfig.EMAIL_FROM, smtp } : undefined,
  });
  const health = createChannelHealth({
    pauseMs: providerConfig.CHANNEL_PAUSE_MS,
    onPause: (pause) =>
      alerts.raise({ kind: 'channel_paused', summary: `${pause.channel} paused by a configuration error (${pause.code}); fix the provider settings`, details: { ...pause } }),
    onResume: (channel, reason) => ctx.logger.warn({ channel, reason }, 'channel resumed'),
  });
  // Every written outcome also goes to the live feed (SSE on the monitoring page); best effort.
  const feed = createStatusFeedPublisher(ctx.redis, { logger: ctx.logger });
  const notifier = await startNotifier(ctx, providers.channels, {
    health,
    alerts,
    ...extra,
    onOutcome: (outcome, recorded) => {
      feed({ deliveryId: recorded.id, notificationId: recorded.notificationId, eventType: recorded.eventType, userId: recorded.userId, channel: recorded.channel, status: recorded.status, at: new Date().toISOString() });
      extra.onOutcome?.(outcome, recorded);
    },
  });
  return { notifier, providers, alerts };
}
