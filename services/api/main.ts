import { createAppContext } from '../../lib/app-context.js';
import { loadConfig } from '../../lib/config.js';
import { onShutdown } from '../../lib/util/shutdown.js';
import { buildServer } from './server.js';

const ctx = createAppContext(loadConfig());
const app = await buildServer(ctx);
await app.listen({ host: ctx.config.HTTP_HOST, port: ctx.config.HTTP_PORT });
onShutdown(ctx.logger, [
  { name: 'connections', stop: () => ctx.close() },
  { name: 'api', stop: () => app.close() },
]);
