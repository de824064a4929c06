// Stores events (committed in Postgres) and dies by SIGKILL before broadcasting them:
// the window between commit and publish. Reads the events as JSON lines on stdin.
import { createInterface } from 'node:readline';
import { createPool } from '../../../lib/db/pool.js';
import { pgExecutor } from '../../../lib/db/sql-executor.js';
import { parseEvent } from '../../../lib/events/envelope.js';
import { insertEvents } from '../../../lib/events/event-store.js';

const pool = createPool(process.env.DATABASE_URL!, 2);
const events = [];
for await (const line of createInterface({ input: process.stdin })) if (line) events.push(parseEvent(JSON.parse(line)));
await insertEvents(pgExecutor(pool), events);
process.kill(process.pid, 'SIGKILL');
