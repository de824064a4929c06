import { createAppContext } from '../../lib/app-context.js';
import { loadConfig } from '../../lib/config.js';
import { onShutdown } from '../../lib/util/shutdown.js';
import { buildServer } from './server.js';
import { createMetrics } from '../../lib/api/metrics.js';

const ctx = createAppContext(loadConfig());
const app = await buildServer(ctx, { metrics: createMetrics({ pool: ctx.pool }) });
await app.listen({ host: ctx.config.HTTP_HOST, port: ctx.config.HTTP_PORT });
onShutdown(ctx.logger, [
  { name: 'connections', stop: () => ctx.close() },
  { name: 'api', stop: () => app.close() },
]);
