import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { createStatusFeedPublisher, publishStatusChanges, type DeliveryStatusChange } from '../../lib/notifications/status-feed.js';
import { buildServer } from '../../services/api/server.js';
import { testContext, waitFor } from '../support/harness.js';
import { TestKeys } from './api-support.js';

let ctx: AppContext;
let app: FastifyInstance;
let keys: TestKeys;
let reader: Awaited<ReturnType<TestKeys['create']>>;
let port: number;
const open: { close(): void }[] = [];

beforeAll(async () => {
  ctx = testContext();
  app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
  keys = new TestKeys(ctx);
  reader = await keys.create(['read']);
});
afterAll(async () => {
  for (const s of open.splice(0)) s.close();
  await keys.cleanup();
  await app.close();
  await ctx.close();
});

function change(overrides: Partial<DeliveryStatusChange> = {}): DeliveryStatusChange {
  return {
    deliveryId: randomUUID(),
    notificationId: randomUUID(),
    eventType: 'transaction.completed',
    userId: `stream-${randomUUID().slice(0, 8)}`,
    channel: 'sms',
    status: 'SENT',
    at: new Date().toISOString(),
    ...overrides,
  };
}

interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: DeliveryStatusChange[];
  comments: string[];
  bytes: number;
  ended: boolean;
  close(): void;
}

/** An SSE client over plain http; resolves once the response headers arrived. */
function connect(query = '', headers: Record<string, string> = reader.auth): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/v1/stream${query}`, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const stream: Stream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        bytes: 0,
        ended: false,
        close: () => req.destroy(),
      };
      open.push(stream);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        stream.bytes += chunk.length;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) stream.events.push(JSON.parse(line.slice(6)));
            else if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
          }
        }
      });
      res.on('end', () => (stream.ended = true));
      res.on('error', () => (stream.ended = true));
      resolve(stream);
    });
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GET /v1/stream', () => {
  it('needs a read key, by header or ?key=', async () => {
    const none = await connect('', {});
    expect(none.status).toBe(401);
    const publishOnly = await keys.create(['publish']);
    expect((await connect('', publishOnly.auth)).status).toBe(403);
    expect((await connect('?key=hrld_unknown', {})).status).toBe(401);
    const byQuery = await connect(`?key=${encodeURIComponent(reader.key)}`, {});
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers['content-type']).toMatch(/^text\/event-stream/);
    expect((await connect('?channel=fax')).status).toBe(400);
  });

  it('sends a delivery status change published on Redis to a connected client', async () => {
    const stream = await connect();
    expect(stream.status).toBe(200);
    await waitFor(async () => stream.comments.includes('connected'), 5_000, 'connected comment');
    const c = change({ status: 'DEAD_LETTERED', channel: 'email' });
    await publishStatusChanges(ctx.redis, [c]);
    const received = await waitFor(async () => stream.events.find((e) => e.deliveryId === c.deliveryId), 5_000, 'the change');
    expect(received).toEqual(c);
  });

  it('the batching publisher delivers every change', async () => {
    const stream = await connect();
    const publish = createStatusFeedPublisher(ctx.redis, { lingerMs: 5, maxBatch: 10 });
    const changes = Array.from({ length: 25 }, () => change());
    for (const c of changes) publish(c);
    await publish.flush();
    await waitFor(async () => stream.events.length >= 25, 5_000, '25 changes');
    expect(stream.events.map((e) => e.deliveryId)).toEqual(changes.map((c) => c.deliveryId));
    expect(publish.dropped).toBe(0);
  });

  it('filters by channel and status', async () => {
    const all = await connect();
    const sms = await connect('?channel=sms');
    const failed = await connect('?status=FAILED,DEAD_LETTERED');
    const smsSent = await connect('?channel=sms&status=SENT');
    const changes = [
      change({ channel: 'sms', status: 'SENT' }),
      change({ channel: 'email', status: 'FAILED' }),
      change({ channel: 'sms', status: 'DEAD_LETTERED' }),
      change({ channel: 'push', status: 'SENT' }),
    ];
    await publishStatusChanges(ctx.redis, changes);
    await waitFor(async () => all.events.length >= 4, 5_000, 'all changes');
    await sleep(100);
    const ids = (s: Stream) => s.events.map((e) => e.deliveryId);
    expect(ids(all)).toEqual(changes.map((c) => c.deliveryId));
    expect(ids(sms)).toEqual([changes[0]!.deliveryId, changes[2]!.deliveryId]);
    expect(ids(failed)).toEqual([changes[1]!.deliveryId, changes[2]!.deliveryId]);
    expect(ids(smsSent)).toEqual([changes[0]!.deliveryId]);
  });

  it('drops a client that does not read while a fast client keeps receiving', async () => {
    const fast = await connect();
    // A raw socket that sends the request and then never reads.
    const slow = net.connect({ host: '127.0.0.1', port });
    open.push({ close: () => slow.destroy() });
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.write(`GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${reader.key}\r\nAccept: text/event-stream\r\n\r\n`);
    slow.pause();
    await sleep(200);

    // ~8 KB per change; 40 rounds of 100 is ~32 MB, far beyond the kernel's socket buffers plus the 256 KiB bound.
    const padding = 'x'.repeat(8_000);
    const rounds = 40;
    const perRound = 100;
    const before = fast.events.length;
    for (let round = 1; round <= rounds; round++) {
      await publishStatusChanges(ctx.redis, Array.from({ length: perRound }, () => change({ eventType: padding })));
      await waitFor(async () => fast.events.length - before >= round * perRound, 10_000, `fast client round ${round}`);
    }
    const published = rounds * perRound * padding.length;

    // Now read what the slow socket got: the server must have closed it (end), well short of everything.
    let slowBytes = 0;
    const slowEnded = new Promise<boolean>((resolve) => {
      slow.on('data', (chunk: Buffer) => (slowBytes += chunk.length));
      slow.on('end', () => resolve(true));
      slow.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 10_000).unref();
    });
    slow.resume();
    expect(await slowEnded).toBe(true);
    expect(slowBytes).toBeGreaterThan(0);
    expect(slowBytes).toBeLessThan(published / 2);

    // The fast client is still connected and still receiving.
    const last = change({ status: 'FAILED' });
    await publishStatusChanges(ctx.redis, [last]);
    await waitFor(async () => fast.events.some((e) => e.deliveryId === last.deliveryId), 5_000, 'fast client after the drop');
    expect(fast.ended).toBe(false);
  }, 90_000);
});
