// Dead-letter operations for operators:
//   npm run dead-letters -- list [--channel sms] [--event-type t] [--user u] [--all] [--limit 50] [--cursor c]
//   npm run dead-letters -- show <deliveryId>
//   npm run dead-letters -- retry <deliveryId>... | --all-listed [--channel sms]
//   npm run dead-letters -- discard <deliveryId> --reason "why"
import { parseArgs } from 'node:util';
import { channelNames, type ChannelName } from '../lib/channels/channel.js';
import { loadConfig } from '../lib/config.js';
import { createPool } from '../lib/db/pool.js';
import { discardDeadLetter, listDeadLetters, retryDeadLetters, showDeadLetter } from '../lib/queues/dead-letters.js';
import { runCli } from './run-cli.js';

const usage = `usage:
  npm run dead-letters -- list [--channel ${channelNames.join('|')}] [--event-type <type>] [--user <userId>] [--all] [--limit <n>] [--cursor <c>]
  npm run dead-letters -- show <deliveryId>
  npm run dead-letters -- retry <deliveryId>...      (or --all-listed with the list filters: bulk retry)
  npm run dead-letters -- discard <deliveryId> --reason "<why>"`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    channel: { type: 'string' }, 'event-type': { type: 'string' }, user: { type: 'string' }, all: { type: 'boolean' },
    limit: { type: 'string' }, cursor: { type: 'string' }, reason: { type: 'string' }, 'all-listed': { type: 'boolean' },
  },
});
const [command, ...ids] = positionals;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function filter() {
  if (values.channel && !(channelNames as readonly string[]).includes(values.channel)) throw new Error(`--channel: must be one of ${channelNames.join(', ')}`);
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000) throw new Error('--limit: must be a whole number from 1 to 1000');
  return { channel: values.channel as ChannelName | undefined, eventType: values['event-type'], userId: values.user, includeResolved: values.all ?? false, cursor: values.cursor, limit };
}
function requireIds(list: string[]) {
  const bad = list.filter((id) => !uuid.test(id));
  if (list.length === 0 || bad.length) throw new Error(bad.length ? `not a delivery id: ${bad.join(', ')}` : usage);
  return list;
}

const pool = createPool(loadConfig().DATABASE_URL, 2);
await runCli(async () => {
  if (command === 'list') {
    const page = await listDeadLetters(pool, filter());
    for (const d of page.items) {
      process.stdout.write(`${d.deliveryId}  ${d.channel.padEnd(5)}  ${d.eventType.padEnd(24)}  attempts=${d.attempts}  ${d.deadLetteredAt}  ${d.discardedAt ? 'discarded' : d.retriedAt ? 'retried' : 'open'}  ${d.lastError ?? ''}\n`);
    }
    process.stdout.write(`${page.items.length} dead letter(s)${page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : ''}\n`);
  } else if (command === 'show') {
    const [id] = requireIds(ids);
    const found = await showDeadLetter(pool, id!);
    if (!found) throw new Error(`no dead letter for delivery ${id}`);
    process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
  } else if (command === 'retry') {
    const targets = values['all-listed'] ? (await listDeadLetters(pool, { ...filter(), includeResolved: false })).items.map((d) => d.deliveryId) : requireIds(ids);
    const { retried, notFound } = await retryDeadLetters(pool, targets);
    process.stdout.write(`retried ${retried.length}: fresh attempt budget, same delivery id (idempotency mark)\n`);
    if (notFound.length) process.stdout.write(`not retried (not dead-lettered, or discarded): ${notFound.join(', ')}\n`);
  } else if (command === 'discard') {
    const [id] = requireIds(ids);
    if (!values.reason?.trim()) throw new Error('--reason: is required (it is kept for the audit trail)');
    if (!(await discardDeadLetter(pool, id!, values.reason.trim()))) throw new Error(`delivery ${id} is not an open dead letter`);
    process.stdout.write(`discarded ${id}\n`);
  } else {
    throw new Error(usage);
  }
}, () => pool.end());
