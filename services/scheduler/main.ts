import { createAppContext } from '../../lib/app-context.js';
import { connectCoreBanking } from '../../lib/banking/core-banking-connection.js';
import { loadConfig } from '../../lib/config.js';
import { onShutdown } from '../../lib/util/shutdown.js';
import { startScheduler } from './scheduler-service.js';

const ctx = createAppContext(loadConfig());
const bank = await connectCoreBanking(ctx.config, ctx.logger);
const scheduler = await startScheduler(ctx, { coreBanking: bank.coreBanking });
ctx.logger.info('scheduler started');
onShutdown(ctx.logger, [
  { name: 'connections', stop: () => ctx.close() },
  { name: 'core bank', stop: () => bank.close() },
  { name: 'scheduler', stop: () => scheduler.stop() },
]);
