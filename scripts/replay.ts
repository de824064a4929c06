// Re-runs handlers for chosen events; deliveries already SENT are never sent again:
//   npm run replay -- <eventId>...
//   npm run replay -- --type transaction.completed --from 2026-11-23T00:00:00Z [--to ...] [--user u] [--correlation c]
import { parseArgs } from 'node:util';
import { createAppContext } from '../lib/app-context.js';
import { loadConfig } from '../lib/config.js';
import { replayEvents, type ReplayFilter } from '../lib/events/replay.js';
import { runCli } from './run-cli.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { type: { type: 'string' }, user: { type: 'string' }, correlation: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
});
const date = (name: string, value?: string) => {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`--${name}: must be an ISO 8601 timestamp`);
  return d;
};
const ctx = createAppContext(loadConfig());
await runCli(async () => {
  const filter: ReplayFilter = { type: values.type, userId: values.user, correlationId: values.correlation, from: date('from', values.from), to: date('to', values.to) };
  const hasFilter = Object.values(filter).some((v) => v !== undefined);
  if (positionals.length === 0 && !hasFilter) throw new Error('give event ids or at least one of --type, --user, --correlation, --from, --to');
  const result = await replayEvents(ctx, positionals.length ? { eventIds: positionals } : { filter });
  process.stdout.write(`replayed ${result.replayed} event(s); new or reset deliveries are picked up by the notifiers\n`);
}, () => ctx.close());
