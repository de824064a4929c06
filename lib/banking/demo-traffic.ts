import { randomUUID } from 'node:crypto';
import type { EventBus } from '../events/event-bus.js';
import type { EventInput } from '../events/envelope.js';
import type { Logger } from '../logger.js';
import type { Pool } from '../db/pool.js';
import { registerDevice } from '../notifications/contacts.js';

export interface DemoCustomer {
  userId: string;
  accountNumber: string;
  currency: string;
}

const source = 'demo.core-banking';
const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;
const money = (max: number, random: () => number) => (Math.floor(random() * max * 100) / 100).toFixed(2);

/** Onboarding events for a synthetic customer: who they are and the account they hold. */
export function onboardingEvents(index: number, random: () => number = Math.random): { customer: DemoCustomer; events: EventInput[] } {
  const userId = `demo-user-${index}`;
  const accountNumber = String(1_000_000_000 + index);
  const currency = pick(['MWK', 'MWK', 'MWK', 'USD'], random);
  const customer = { userId, accountNumber, currency };
  return {
    customer,
    events: [
      {
        type: 'user.registered', aggregateType: 'user', aggregateId: userId,
        payload: { userId, email: `${userId}@example.test`, phone: `+2659900${String(index).padStart(5, '0')}`, locale: 'en', timeZone: 'Africa/Blantyre' },
        metadata: { userId, source },
      },
      {
        type: 'account.created', aggregateType: 'account', aggregateId: accountNumber,
        payload: { accountNumber, ownerUserId: userId, currency, productType: 'current' },
        metadata: { userId, source },
      },
    ],
  };
}

/** One realistic banking event for a customer: mostly transactions, some logins and service requests. */
export function randomBankingEvent(c: DemoCustomer, random: () => number = Math.random): EventInput {
  const correlationId = randomUUID();
  const meta = { userId: c.userId, correlationId, source };
  const roll = random();
  if (roll < 0.6) {
    const transactionId = `txn-${randomUUID().slice(0, 8)}`;
    const type = random() < 0.95 ? 'transaction.completed' : 'transaction.failed';
    return {
      type, aggregateType: 'transaction', aggregateId: transactionId,
      payload: {
        transactionId, accountNumber: c.accountNumber, amount: money(c.currency === 'USD' ? 500 : 250_000, random), currency: c.currency,
        direction: random() < 0.6 ? 'debit' : 'credit', counterparty: pick(['ESCOM', 'Airtel Money', 'Shoprite', 'Payroll'], random),
        ...(type === 'transaction.failed' ? { reason: 'insufficient funds' } : {}),
      },
      metadata: meta,
    } as EventInput;
  }
  if (roll < 0.8) {
    return { type: 'user.login', aggregateType: 'user', aggregateId: c.userId, payload: { userId: c.userId, ip: '10.1.2.3', device: 'Android app' }, metadata: meta };
  }
  if (roll < 0.87) {
    return { type: 'user.login.failed', aggregateType: 'user', aggregateId: c.userId, payload: { userId: c.userId, ip: '10.9.8.7', attempts: 3 }, metadata: meta };
  }
  if (roll < 0.95) {
    const requestId = `chq-${randomUUID().slice(0, 8)}`;
    const type = pick(['checkbook.requested', 'checkbook.approved', 'checkbook.ready'] as const, random);
    return { type, aggregateType: 'checkbook', aggregateId: requestId, payload: { requestId, accountNumber: c.accountNumber, branch: 'Blantyre Main' }, metadata: meta };
  }
  return {
    type: 'account.balance.low', aggregateType: 'account', aggregateId: c.accountNumber,
    payload: { accountNumber: c.accountNumber, balance: money(5_000, random), threshold: '5000.00', currency: c.currency },
    metadata: meta,
  };
}

/** Publishes a steady stream of demo events until stopped. */
export async function runDemoTraffic(bus: EventBus, pool: Pool, logger: Logger, options: { customers: number; eventsPerSecond: number; signal: AbortSignal }): Promise<void> {
  const customers: DemoCustomer[] = [];
  for (let i = 0; i < options.customers; i++) {
    const { customer, events } = onboardingEvents(i);
    for (const event of events) await bus.publish({ ...event, id: deterministicId(`${customer.userId}:${event.type}`) });
    await registerDevice(pool, customer.userId, `demo-device-${i}`, i % 2 ? 'ios' : 'android');
    customers.push(customer);
  }
  logger.info({ customers: customers.length }, 'demo customers onboarded');
  const intervalMs = 1_000 / options.eventsPerSecond;
  while (!options.signal.aborted) {
    await bus.publish(randomBankingEvent(pick(customers, Math.random))).catch((error) => logger.warn({ err: error }, 'demo publish failed'));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Stable ids make onboarding idempotent across restarts of the demo. */
function deterministicId(key: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (const ch of key) {
    h1 = Math.imul(h1 ^ ch.charCodeAt(0), 16_777_619) >>> 0;
    h2 = Math.imul(h2 ^ ch.charCodeAt(0), 2_246_822_519) >>> 0;
  }
  const hex = (h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')).repeat(2);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
