// A real notifier process for fault tests: sandbox providers that log every accepted send
// to SEND_LOG, BullMQ retries, short timings. Prints "ready" once it is subscribed.
import { createAppContext } from '../../../lib/app-context.js';
import { SandboxChannel } from '../../../lib/channels/sandbox-channel.js';
import { loadConfig } from '../../../lib/config.js';
import { Notifier } from '../../../lib/notifications/notifier.js';
import { onShutdown } from '../../../lib/util/shutdown.js';

const config = loadConfig();
const ctx = createAppContext(config);
const sendLog = process.env.SEND_LOG!;
const transientFailureRate = Number(process.env.TRANSIENT_RATE ?? 0);
const latencyMs = Number(process.env.PROVIDER_LATENCY_MS ?? 2);
const options = {
  sendLog,
  transientFailureRate,
  latencyMs,
  outageFlag: process.env.OUTAGE_FLAG,
  permanentFailureRate: Number(process.env.PERMANENT_RATE ?? 0),
};
const schedule = { maxAttempts: 50, baseDelayMs: 50, maxDelayMs: 500 };

const notifier = new Notifier({
  pool: ctx.pool,
  bus: ctx.bus,
  channels: { push: new SandboxChannel('push', options), email: new SandboxChannel('email', options), sms: new SandboxChannel('sms', options) },
  logger: ctx.logger,
  instanceId: config.HERALD_INSTANCE_ID,
  retrySchedules: { push: schedule, email: schedule, sms: schedule },
  retryQueue: { connection: { url: config.REDIS_URL, maxRetriesPerRequest: null } },
  timing: {
    sweeperGraceMs: config.SWEEPER_GRACE_MS,
    sweeperIntervalMs: 200,
    sweeperBatchSize: 500,
    maxProcessAttempts: 5,
    deliveryPollIntervalMs: 200,
    deliveryStaleMs: config.DELIVERY_STALE_MS,
    sendTimeoutMs: 5_000,
    concurrency: 64,
    retryingSlackMs: 2_000,
  },
});
await notifier.start();
onShutdown(ctx.logger, [
  { name: 'connections', stop: () => ctx.close() },
  { name: 'notifier', stop: () => notifier.stop() },
]);
process.stdout.write('ready\n');
