import { createAppContext } from '../../lib/app-context.js';
import { createSandboxChannels } from '../../lib/channels/create-channels.js';
import { loadConfig } from '../../lib/config.js';
import { onShutdown } from '../../lib/util/shutdown.js';
import { startNotifier } from './notifier-service.js';

const ctx = createAppContext(loadConfig());
const notifier = await startNotifier(ctx, createSandboxChannels());
ctx.logger.info({ instance: ctx.config.HERALD_INSTANCE_ID }, 'notifier started');
onShutdown(ctx.logger, [
  { name: 'connections', stop: () => ctx.close() },
  { name: 'notifier', stop: () => notifier.stop() },
]);
