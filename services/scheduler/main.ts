import { createAppContext } from '../../lib/app-context.js';
import { loadConfig } from '../../lib/config.js';
import { onShutdown } from '../../lib/util/shutdown.js';
import { startScheduler } from './scheduler-service.js';

const ctx = createAppContext(loadConfig());
const scheduler = startScheduler(ctx);
ctx.logger.info('scheduler started');
onShutdown(ctx.logger, [
  { name: 'connections', stop: () => ctx.close() },
  { name: 'scheduler', stop: () => scheduler.stop() },
]);
