import type { EventBus } from '../events/event-bus.js';
import type { PayloadOf } from '../events/catalog/index.js';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis.js';
import { Batcher } from '../util/batcher.js';
import type { AccountDiscovery } from './account-discovery.js';
import type { BalanceSync } from './balance-sync.js';

export interface BankingHintsOptions {
  bus: EventBus;
  /** Decides which scheduler instance acts on a hint: every subscriber hears every message. */
  redis: Redis;
  logger: Logger;
  balanceSync: BalanceSync;
  discovery: AccountDiscovery;
  /** transaction.completed hints within this window are synced in one run. */
  coalesceMs: number;
  /** Hints waiting beyond this many are dropped: the periodic sync and the sweep cover them. */
  maxPending?: number;
}

interface Hint {
  eventId: string;
  key: string;
}

/** How long an instance's claim on a hint keeps others from acting on the same event. */
const claimTtlMs = 10 * 60_000;

/**
 * The fast path of the banking flows, the way Herald does everything: pub/sub hints that may
 * be lost, backed by durable sweeps. transaction.completed → an immediate sync of its account
 * (coalesced: several transactions within the window, one run); user.registered → account
 * discovery. A lost hint costs latency: the periodic full sync and the discovery sweep find
 * the same work in Postgres.
 */
export async function startBankingHints(options: BankingHintsOptions): Promise<{ stop(): Promise<void> }> {
  const { logger } = options;
  const maxPending = options.maxPending ?? 10_000;

  const claim = async (hints: Hint[]): Promise<Hint[]> => {
    try {
      const pipeline = options.redis.pipeline();
      for (const h of hints) pipeline.set(`herald:banking-hint:${h.eventId}`, '1', 'PX', claimTtlMs, 'NX');
      const replies = (await pipeline.exec()) ?? [];
      return hints.filter((_, i) => replies[i]?.[1] === 'OK');
    } catch (error) {
      // Acting twice is harmless (both flows are idempotent); not acting would wait for the sweep.
      logger.warn({ err: error }, 'could not claim banking hints in Redis; acting on them anyway');
      return hints;
    }
  };

  const syncs = new Batcher<Hint, void>({
    run: async (hints) => {
      const won = await claim(hints);
      if (won.length > 0) await options.balanceSync.run('transaction', [...new Set(won.map((h) => h.key))]);
      return hints.map(() => undefined);
    },
    // Well within what a run's started event may list (10,000 accounts).
    maxSize: 1_000,
    lingerMs: options.coalesceMs,
    // One run at a time: hints arriving meanwhile form the next, bigger run.
    maxConcurrent: 1,
  });
  const discoveries = new Batcher<Hint, void>({
    run: async (hints) => {
      const won = await claim(hints);
      if (won.length > 0) await options.discovery.discover(won.map((h) => ({ userId: h.key, causationId: h.eventId })));
      return hints.map(() => undefined);
    },
    maxSize: 100,
    lingerMs: 50,
    maxConcurrent: 1,
  });

  const offer = (batcher: Batcher<Hint, void>, hint: Hint, what: string) => {
    // Never wait for room: a subscriber that blocks would only queue messages elsewhere.
    if (batcher.pending >= maxPending) {
      logger.debug({ eventId: hint.eventId }, `${what} hint dropped (backlog full); the sweep covers it`);
      return;
    }
    batcher.add(hint).catch((error) => logger.warn({ err: error, eventId: hint.eventId }, `${what} from hint failed; the sweep covers it`));
  };

  const unsubscribers = [
    await options.bus.subscribe(['transaction.completed'], (event) => {
      offer(syncs, { eventId: event.id, key: (event.payload as PayloadOf<'transaction.completed'>).accountNumber }, 'balance sync');
    }),
    await options.bus.subscribe(['user.registered'], (event) => {
      offer(discoveries, { eventId: event.id, key: (event.payload as PayloadOf<'user.registered'>).userId }, 'account discovery');
    }),
  ];

  return {
    async stop() {
      for (const unsubscribe of unsubscribers) unsubscribe();
      await Promise.all([syncs.drain(), discoveries.drain()]);
    },
  };
}
