// `npm start`: API, notifier and scheduler in one process, plus demo traffic and a live summary.
import { createAppContext } from '../lib/app-context.js';
import { connectCoreBanking } from '../lib/banking/core-banking-connection.js';
import { runDemoTraffic } from '../lib/banking/demo-traffic.js';
import { loadConfig } from '../lib/config.js';
import { createSummarySampler } from '../lib/notifications/live-summary.js';
import { createMetrics } from '../lib/api/metrics.js';
import { onShutdown } from '../lib/util/shutdown.js';
import { buildServer } from './api/server.js';
import { startNotifierWithProviders } from './notifier/notifier-service.js';
import { startScheduler } from './scheduler/scheduler-service.js';

const config = loadConfig();
const ctx = createAppContext(config);
const log = ctx.logger;

const metrics = createMetrics({ pool: ctx.pool });
const { notifier, providers, alerts } = await startNotifierWithProviders(ctx, {
  onOutcome: (outcome, recorded) => metrics.recordDelivery(recorded.channel, outcome.status, outcome.latencyMs / 1_000),
});
if (notifier.retryJobs) metrics.watchRetryQueue(notifier.retryJobs);
process.stdout.write(`[herald] ${providers.summary}\n`);
const bank = await connectCoreBanking(config, log);
process.stdout.write(`[herald] ${bank.summary}\n`);
const scheduler = await startScheduler(ctx, { coreBanking: bank.coreBanking });
const api = await buildServer(ctx, { metrics });
await api.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });

const demo = new AbortController();
const demoRate = Number(process.env.DEMO_EVENTS_PER_SECOND ?? 20);
const demoRun = demoRate > 0
  ? runDemoTraffic(ctx.bus, ctx.pool, log.child({ component: 'demo' }), { customers: 50, eventsPerSecond: demoRate, signal: demo.signal, bank: bank.simulated })
  : Promise.resolve();

const sample = createSummarySampler(ctx.pool);
const summary = setInterval(async () => {
  try {
    const s = await sample();
    const statuses = Object.entries(s.deliveries).map(([k, v]) => `${k}=${v}`).join(' ');
    process.stdout.write(`[herald] last 24 h: events=${s.events} (${s.eventsPerSecond.toFixed(1)}/s now) deliveries: ${statuses}\n`);
  } catch {
    // The summary is cosmetic; a database hiccup shows up in the service logs instead.
  }
}, 2_000);

onShutdown(log, [
  { name: 'connections', stop: () => ctx.close() },
  { name: 'providers', stop: () => providers.close() },
  { name: 'alerts', stop: () => alerts.close() },
  { name: 'notifier', stop: () => notifier.stop() },
  { name: 'core bank', stop: () => bank.close() },
  { name: 'scheduler', stop: () => scheduler.stop() },
  { name: 'api', stop: () => api.close() },
  { name: 'summary', stop: async () => clearInterval(summary) },
  { name: 'demo', stop: async () => { demo.abort(); await demoRun; } },
]);
