// Seeds demo customers (user.registered + account.created events, one device each):
//   npm run seed -- [--customers 50]
import { parseArgs } from 'node:util';
import { createAppContext } from '../lib/app-context.js';
import { onboardingEvents } from '../lib/banking/demo-traffic.js';
import { loadConfig } from '../lib/config.js';
import { registerDevice } from '../lib/notifications/contacts.js';
import { runCli } from './run-cli.js';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '50' } } });
const ctx = createAppContext(loadConfig());
await runCli(async () => {
  const count = Number(values.customers);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new Error('--customers: must be a whole number from 1 to 100000');
  for (let i = 0; i < count; i++) {
    const { customer, events } = onboardingEvents(i);
    for (const event of events) await ctx.bus.publish(event);
    await registerDevice(ctx.pool, customer.userId, `demo-device-${i}`, i % 2 ? 'ios' : 'android');
  }
  process.stdout.write(`seeded ${count} customer(s); a running notifier turns their events into welcome messages\n`);
}, () => ctx.close());
