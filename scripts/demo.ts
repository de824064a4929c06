// Publishes demo banking traffic into a running Herald (its Postgres and Redis):
//   npm run demo -- [--rate 20] [--customers 50] [--seconds 60]
import { parseArgs } from 'node:util';
import { createAppContext } from '../lib/app-context.js';
import { runDemoTraffic } from '../lib/banking/demo-traffic.js';
import { loadConfig } from '../lib/config.js';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '20' }, customers: { type: 'string', default: '50' }, seconds: { type: 'string', default: '60' } } });
const numbers = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)])) as Record<'rate' | 'customers' | 'seconds', number>;
for (const [name, value] of Object.entries(numbers)) {
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`--${name}: must be a positive number\n`);
    process.exit(1);
  }
}
const ctx = createAppContext(loadConfig());
const stop = new AbortController();
setTimeout(() => stop.abort(), numbers.seconds * 1_000);
process.once('SIGINT', () => stop.abort());
await runDemoTraffic(ctx.bus, ctx.pool, ctx.logger, { customers: numbers.customers, eventsPerSecond: numbers.rate, signal: stop.signal });
await ctx.close();
