import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ChannelName, ContentByChannel, OutboundMessage, Recipient } from '../../lib/channels/channel.js';

export function outbound<C extends ChannelName>(
  content: ContentByChannel[C],
  recipient: Partial<Recipient> = {},
  extra: Partial<OutboundMessage<C>> = {},
): OutboundMessage<C> {
  return {
    deliveryId: randomUUID(),
    notificationId: randomUUID(),
    eventId: randomUUID(),
    eventType: 'transaction.posted',
    priority: 'normal',
    attempt: 1,
    recipient: { userId: 'user-1', deviceTokens: [], locale: 'en', timeZone: 'Europe/Berlin', ...recipient },
    content,
    ...extra,
  };
}

/** Awaits a promise that must reject and hands back what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Fails the file if anything tries to open a TCP connection off this machine (an SDK falling
 * back to Google's hosts, say). The connection is refused before any DNS lookup.
 */
export function onlyLoopback(): void {
  const original = net.Socket.prototype.connect;
  const blocked: string[] = [];
  beforeAll(() => {
    net.Socket.prototype.connect = function guarded(this: net.Socket, ...args: unknown[]) {
      const first = Array.isArray(args[0]) ? args[0][0] : args[0];
      const host = typeof first === 'object' && first !== null ? ((first as { host?: string; path?: string }).path ? undefined : (first as { host?: string }).host ?? 'localhost')
        : typeof first === 'number' ? (typeof args[1] === 'string' ? args[1] : 'localhost') : undefined;
      if (host !== undefined && !LOOPBACK.has(host)) {
        blocked.push(host);
        return this.destroy(new Error(`test guard: connection to ${host} refused`));
      }
      return (original as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof original;
  });
  afterAll(() => {
    net.Socket.prototype.connect = original;
    expect(blocked, 'connections attempted off loopback').toEqual([]);
  });
}
