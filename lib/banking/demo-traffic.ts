import { randomUUID } from 'node:crypto';
import type { EventBus } from '../events/event-bus.js';
import type { EventInput } from '../events/envelope.js';
import type { PayloadOf } from '../events/catalog/index.js';
import type { Logger } from '../logger.js';
import type { Pool } from '../db/pool.js';
import { registerDevice } from '../notifications/contacts.js';
import type { SimulatedCoreBank } from './sandbox/simulated-core-bank.js';

/** What the demo needs of the simulated core bank: its accounts exist there and its transactions move their balances. */
export type DemoBank = Pick<SimulatedCoreBank, 'openAccount' | 'postTransaction'>;

export interface DemoCustomer {
  userId: string;
  accountNumber: string;
  currency: string;
}

const source = 'demo.core-banking';
const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;
const money = (max: number, random: () => number) => (Math.floor(random() * max * 100) / 100).toFixed(2);

/**
 * Onboarding events for a synthetic customer: who they are and the account they hold. All of it
 * follows from the index, the currency too: a restarted demo onboards the same customers again
 * (their events are duplicates by id, so the stored account keeps its first currency), and the
 * simulated bank, which starts empty, must open each account in that same currency.
 */
export function onboardingEvents(index: number): { customer: DemoCustomer; events: EventInput[] } {
  const userId = `demo-user-${index}`;
  const accountNumber = String(1_000_000_000 + index);
  const currency = index % 4 === 3 ? 'USD' : 'MWK';
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

/**
 * Publishes a steady stream of demo events until stopped. With `bank` (the simulated core bank
 * of `npm start`) the demo accounts are opened there and every transaction is posted to it
 * first, so balances move, debits over the balance fail, and balance syncs and alert rules
 * have something real to report.
 */
export async function runDemoTraffic(
  bus: EventBus,
  pool: Pool,
  logger: Logger,
  options: { customers: number; eventsPerSecond: number; signal: AbortSignal; bank?: DemoBank },
): Promise<void> {
  const { bank } = options;
  const customers: DemoCustomer[] = [];
  const onboarding = Array.from({ length: options.customers }, (_, i) => onboardingEvents(i));
  // An account stored by an earlier run keeps the currency it was stored with (older versions
  // of the demo picked it at random); the bank and the demo's transactions follow the store.
  const { rows: stored } = await pool.query<{ account_number: string; currency: string }>(
    'SELECT account_number, currency FROM accounts WHERE account_number = ANY($1::text[])',
    [onboarding.map((o) => o.customer.accountNumber)],
  );
  const storedCurrency = new Map(stored.map((r) => [r.account_number, r.currency]));
  for (const [i, { customer: fresh, events }] of onboarding.entries()) {
    const customer = { ...fresh, currency: storedCurrency.get(fresh.accountNumber) ?? fresh.currency };
    // Before user.registered: account discovery then finds this account at the bank.
    bank?.openAccount({ accountNumber: customer.accountNumber, ownerUserId: customer.userId, currency: customer.currency, product: 'current' });
    for (const event of events) await bus.publish({ ...event, id: deterministicId(`${customer.userId}:${event.type}`) });
    await registerDevice(pool, customer.userId, `demo-device-${i}`, i % 2 ? 'ios' : 'android');
    customers.push(customer);
  }
  logger.info({ customers: customers.length }, 'demo customers onboarded');
  void addDemoAlertRules(pool, customers, options.signal).catch((error) => logger.warn({ err: error }, 'demo alert rules not set'));
  const intervalMs = 1_000 / options.eventsPerSecond;
  while (!options.signal.aborted) {
    const event = randomBankingEvent(pick(customers, Math.random));
    // With a bank, low-balance alerts come from its real balances, not from a dice roll.
    const coherent = bank ? (event.type === 'account.balance.low' ? null : postToBank(bank, event)) : event;
    if (coherent) await bus.publish(coherent).catch((error) => logger.warn({ err: error }, 'demo publish failed'));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A completed transaction is posted first: it carries the balance after it, or fails for want of funds. */
function postToBank(bank: DemoBank, event: EventInput): EventInput {
  if (event.type !== 'transaction.completed') return event;
  const p: PayloadOf<'transaction.completed'> = event.payload;
  const posting = bank.postTransaction({ transactionId: p.transactionId, accountNumber: p.accountNumber, amount: p.amount, direction: p.direction });
  if (posting.status === 'posted') return { ...event, payload: { ...p, balanceAfter: posting.balanceAfter } };
  return { ...event, type: 'transaction.failed', payload: { ...p, reason: 'insufficient funds' } };
}

/**
 * A low-balance and a large-debit rule on each demo account that has none, once the notifier
 * has stored the accounts. Best effort: the demo runs without them.
 */
async function addDemoAlertRules(pool: Pool, customers: DemoCustomer[], signal: AbortSignal): Promise<void> {
  const numbers = customers.map((c) => c.accountNumber);
  for (let waited = 0; waited < 30_000 && !signal.aborted; waited += 500) {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts WHERE account_number = ANY($1::text[])', [numbers]);
    if (rows[0]!.n >= numbers.length) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await pool.query(
    `INSERT INTO alert_rules (account_number, kind, threshold)
     SELECT a.account_number, r.kind, CASE WHEN a.currency = 'MWK' THEN r.mwk ELSE r.other END
       FROM accounts a
      CROSS JOIN (VALUES ('balance_below', 10000, 20), ('debit_over', 200000, 400)) AS r(kind, mwk, other)
      WHERE a.account_number = ANY($1::text[])
        AND NOT EXISTS (SELECT 1 FROM alert_rules x WHERE x.account_number = a.account_number)
     ON CONFLICT DO NOTHING`,
    [numbers],
  );
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
