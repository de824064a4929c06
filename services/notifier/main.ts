import { createAppContext } from '../../lib/app-context.js';
import { loadConfig } from '../../lib/config.js';
import { onShutdown } from '../../lib/util/shutdown.js';
import { startNotifierWithProviders } from './notifier-service.js';

const ctx = createAppContext(loadConfig());
const { notifier, providers, alerts } = await startNotifierWithProviders(ctx);
ctx.logger.info({ instance: ctx.config.HERALD_INSTANCE_ID }, 'notifier started');
onShutdown(ctx.logger, [
  { name: 'connections', stop: () => ctx.close() },
  { name: 'providers', stop: () => providers.close() },
  { name: 'alerts', stop: () => alerts.close() },
  { name: 'notifier', stop: () => notifier.stop() },
]);
