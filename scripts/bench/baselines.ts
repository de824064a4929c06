// Raw baselines measured in the same run as the pipeline: what the infrastructure alone does
// on this machine, so that Herald's figures can be read as a fraction of it.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { round, sleep } from './util.js';

export interface Budget {
  /** Stop after this many items... */
  count: number;
  /** ...or after this long, whichever comes first. */
  maxMs: number;
}

export const benchPrefix = 'herald-bench';

/** BullMQ: a Queue + Worker (concurrency 50), jobs added with addBulk, a processor that returns at once. */
export async function bullmqNoop(redisUrl: string, budget: Budget) {
  const url = new URL(redisUrl);
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
  const name = `noop-${process.pid}-${randomUUID().slice(0, 8)}`;
  const queue = new Queue(name, { connection, prefix: benchPrefix });
  let completed = 0;
  let lastAt = 0;
  const worker = new Worker(name, async () => undefined, { connection, prefix: benchPrefix, concurrency: 50, autorun: false });
  worker.on('completed', () => {
    completed++;
    lastAt = performance.now();
  });
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  const started = performance.now();
  const deadline = started + budget.maxMs;
  void worker.run();
  let added = 0;
  const chunk = 1_000;
  try {
    while (added < budget.count && performance.now() < deadline) {
      // Keep at most a few chunks queued ahead of the worker so the queue stays bounded.
      while (added - completed > 5 * chunk && performance.now() < deadline) await sleep(2);
      const n = Math.min(chunk, budget.count - added);
      await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'noop', data: { i: added + i }, opts: { removeOnComplete: true, removeOnFail: true } })));
      added += n;
    }
    while (completed < added && performance.now() < deadline + 5_000) await sleep(5);
  } finally {
    await worker.close(true);
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
  const seconds = ((lastAt || performance.now()) - started) / 1000;
  return { jobs: completed, added, seconds: round(seconds, 2), jobsPerSec: round(completed / seconds, 0), concurrency: 50 };
}

/** Redis pub/sub: one publisher (pipelined), one subscriber, messages the size of a stored event. */
export async function redisPubSub(redisUrl: string, budget: Budget, messageBytes: number) {
  const channel = `${benchPrefix}:pubsub:${process.pid}:${randomUUID().slice(0, 8)}`;
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  let received = 0;
  let lastAt = 0;
  subscriber.on('message', () => {
    received++;
    lastAt = performance.now();
  });
  await subscriber.subscribe(channel);
  const message = JSON.stringify({ pad: 'x'.repeat(Math.max(0, messageBytes - 10)) });
  const started = performance.now();
  const deadline = started + budget.maxMs;
  let sent = 0;
  const chunk = 500;
  try {
    while (sent < budget.count && performance.now() < deadline) {
      // Bounded: never more than ~10 chunks ahead of the subscriber (Redis drops slow subscribers at 32 MB).
      while (sent - received > 10 * chunk && performance.now() < deadline) await sleep(1);
      const n = Math.min(chunk, budget.count - sent);
      const p = publisher.pipeline();
      for (let i = 0; i < n; i++) p.publish(channel, message);
      await p.exec();
      sent += n;
    }
    while (received < sent && performance.now() < deadline + 3_000) await sleep(2);
  } finally {
    subscriber.disconnect();
    publisher.disconnect();
  }
  const seconds = ((lastAt || performance.now()) - started) / 1000;
  return { messages: received, sent, messageBytes: message.length, seconds: round(seconds, 2), messagesPerSec: round(received / seconds, 0) };
}

/** Postgres: 500-row multi-row INSERTs through pg into a scratch table shaped like domain_events. */
export async function pgInsert(databaseUrl: string, budget: Budget, rowsPerStatement = 500) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS bench_scratch (
      id uuid PRIMARY KEY, type text NOT NULL, aggregate_id text NOT NULL, payload jsonb NOT NULL, stored_at timestamptz NOT NULL DEFAULT now())`);
    await client.query('TRUNCATE bench_scratch');
    const payload = JSON.stringify({ transactionId: 't-x', accountNumber: '123456789012', amount: '1250.00', currency: 'MWK', direction: 'debit' });
    const values: string[] = [];
    for (let i = 0; i < rowsPerStatement; i++) values.push(`($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}::jsonb)`);
    const sql = `INSERT INTO bench_scratch (id, type, aggregate_id, payload) VALUES ${values.join(', ')}`;
    let rows = 0;
    const started = performance.now();
    const deadline = started + budget.maxMs;
    while (rows < budget.count && performance.now() < deadline) {
      const params: unknown[] = [];
      for (let i = 0; i < rowsPerStatement; i++) params.push(randomUUID(), 'transaction.completed', `t-${rows + i}`, payload);
      await client.query(sql, params);
      rows += rowsPerStatement;
    }
    const seconds = (performance.now() - started) / 1000;
    return { rows, rowsPerStatement, seconds: round(seconds, 2), rowsPerSec: round(rows / seconds, 0) };
  } finally {
    await client.query('DROP TABLE IF EXISTS bench_scratch').catch(() => {});
    await client.end();
  }
}
