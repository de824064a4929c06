import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendBounded, DEFAULT_SINK_LOG_LIMIT } from '../../channels/sandbox/bounded-log.js';
import { ScriptedReplies, sendJson as json, type ScriptedPeer, type ScriptedReply } from '../../channels/sandbox/scripted-replies.js';

export type CoreBankReply = ScriptedReply;

export interface CoreBankRequest {
  method: string;
  path: string;
  /** The account numbers a balance request asked for. */
  accountNumbers?: string[];
  at: number;
}

export interface SimulatedAccount {
  accountNumber: string;
  ownerUserId: string | null;
  currency: string;
  product: string;
  /** Decimal string, e.g. "1250.00". */
  balance: string;
}

export type PostingResult =
  | { status: 'posted'; balanceAfter: string; currency: string }
  | { status: 'rejected'; reason: 'insufficient_funds'; balance: string; currency: string };

export interface SimulatedCoreBank extends ScriptedPeer {
  /** Base URL of the core-banking contract (see core-banking-http.ts). */
  readonly url: string;
  readonly port: number;
  /** Every request that arrived, scripted failures included. */
  readonly requests: CoreBankRequest[];
  /** The customer's accounts: their default book on first sight unless accounts were opened for them. */
  accountsOf(userId: string): SimulatedAccount[];
  account(accountNumber: string): SimulatedAccount | undefined;
  /** Opens an account for a customer (a no-op when it exists). */
  openAccount(account: { accountNumber: string; ownerUserId: string; currency: string; product?: string; balance?: string }): SimulatedAccount;
  /** Posts a debit or credit; a debit over the balance is rejected. Idempotent by transactionId. */
  postTransaction(txn: { transactionId: string; accountNumber: string; amount: string; direction: 'debit' | 'credit' }): PostingResult;
  /** Sets a balance outright (tests). */
  setBalance(accountNumber: string, balance: string): void;
  /** The bank forgets the account: balance requests report it unknown. */
  closeAccount(accountNumber: string): void;
}

export interface SimulatedCoreBankOptions {
  port?: number;
  /** Require this header (401 when absent or wrong). */
  auth?: { header: string; value: string };
  /** How many requests and posted transaction ids the logs keep. */
  logLimit?: number;
}

interface Ledger {
  accountNumber: string;
  ownerUserId: string | null;
  currency: string;
  product: string;
  cents: bigint;
}

/**
 * The core bank that ships with Herald, on loopback: it speaks the core-banking HTTP contract
 * so the real adapter, its timeouts and its error handling always run. Every customer has a
 * deterministic default book (one or two accounts derived from the user id), any account number
 * it is asked about opens with a deterministic balance, and balances move as transactions are
 * posted to it. State lives in memory: a restart brings back the same opening balances.
 */
export async function startSimulatedCoreBank(options: SimulatedCoreBankOptions = {}): Promise<SimulatedCoreBank> {
  const limit = options.logLimit ?? DEFAULT_SINK_LOG_LIMIT;
  const ledger = new Map<string, Ledger>();
  const books = new Map<string, Set<string>>();
  const closed = new Set<string>();
  const posted = new Map<string, PostingResult>();
  const requests: CoreBankRequest[] = [];
  const replies = new ScriptedReplies();

  const open = (a: Omit<Ledger, 'cents'> & { cents: bigint }): Ledger => {
    closed.delete(a.accountNumber);
    const existing = ledger.get(a.accountNumber);
    if (existing) return existing;
    ledger.set(a.accountNumber, a);
    if (a.ownerUserId) {
      const book = books.get(a.ownerUserId) ?? new Set<string>();
      book.add(a.accountNumber);
      books.set(a.ownerUserId, book);
    }
    return a;
  };
  // An account number nobody opened: the bank answers as if it always held it.
  const lookup = (accountNumber: string): Ledger | undefined => {
    if (closed.has(accountNumber)) return undefined;
    return ledger.get(accountNumber) ?? open({ accountNumber, ownerUserId: null, currency: 'MWK', product: 'current', cents: openingCents(accountNumber, 'MWK') });
  };
  const accountsOf = (userId: string): Ledger[] => {
    if (!books.has(userId)) for (const a of defaultBook(userId)) open(a);
    return [...books.get(userId)!].map((n) => ledger.get(n)!).filter((a) => !closed.has(a.accountNumber));
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => route(req, res, raw));
  });

  function route(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = new URL(req.url ?? '/', 'http://bank').pathname;
    const entry: CoreBankRequest = { method: req.method ?? 'GET', path, at: Date.now() };
    appendBounded(requests, entry, limit);
    if (options.auth && req.headers[options.auth.header.toLowerCase()] !== options.auth.value) return json(res, 401, { code: 'unauthenticated' });

    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return json(res, 400, { code: 'invalid_json' });
      }
    }
    if (req.method === 'POST' && path === '/balances') {
      const numbers = (body as { accountNumbers?: unknown } | undefined)?.accountNumbers;
      if (!Array.isArray(numbers) || !numbers.every((n) => typeof n === 'string')) return json(res, 400, { code: 'invalid_request' });
      entry.accountNumbers = numbers;
    }
    if (replies.answer(req, res)) return;

    const customer = /^\/customers\/([^/]+)\/accounts$/.exec(path);
    if (req.method === 'GET' && customer) {
      const accounts = accountsOf(decodeURIComponent(customer[1]!)).map(({ accountNumber, currency, product }) => ({ accountNumber, currency, product }));
      return json(res, 200, { accounts });
    }
    if (req.method === 'POST' && path === '/balances') {
      const asOf = new Date().toISOString();
      const balances: { accountNumber: string; balance: string; currency: string; asOf: string }[] = [];
      const unknown: string[] = [];
      for (const n of new Set(entry.accountNumbers)) {
        const a = lookup(n);
        if (a) balances.push({ accountNumber: n, balance: formatCents(a.cents), currency: a.currency, asOf });
        else unknown.push(n);
      }
      return json(res, 200, { balances, unknown });
    }
    json(res, 404, { code: 'not_found' });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const view = (a: Ledger): SimulatedAccount => ({ accountNumber: a.accountNumber, ownerUserId: a.ownerUserId, currency: a.currency, product: a.product, balance: formatCents(a.cents) });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    accountsOf: (userId) => accountsOf(userId).map(view),
    account: (accountNumber) => {
      const a = ledger.get(accountNumber);
      return a && !closed.has(accountNumber) ? view(a) : undefined;
    },
    openAccount: (a) =>
      view(open({ accountNumber: a.accountNumber, ownerUserId: a.ownerUserId, currency: a.currency, product: a.product ?? 'current', cents: a.balance === undefined ? openingCents(a.accountNumber, a.currency) : parseCents(a.balance) })),
    postTransaction: (txn) => {
      const earlier = posted.get(txn.transactionId);
      if (earlier) return earlier;
      const a = lookup(txn.accountNumber);
      if (!a) throw new Error(`account ${txn.accountNumber} is closed`);
      const amount = parseCents(txn.amount);
      let result: PostingResult;
      if (txn.direction === 'debit' && amount > a.cents) {
        result = { status: 'rejected', reason: 'insufficient_funds', balance: formatCents(a.cents), currency: a.currency };
      } else {
        a.cents += txn.direction === 'debit' ? -amount : amount;
        result = { status: 'posted', balanceAfter: formatCents(a.cents), currency: a.currency };
      }
      posted.set(txn.transactionId, result);
      if (posted.size > limit) posted.delete(posted.keys().next().value!);
      return result;
    },
    setBalance: (accountNumber, balance) => {
      const a = lookup(accountNumber) ?? open({ accountNumber, ownerUserId: null, currency: 'MWK', product: 'current', cents: 0n });
      a.cents = parseCents(balance);
    },
    closeAccount: (accountNumber) => void closed.add(accountNumber),
    setReply: (reply) => replies.set(reply),
    replyNext: (reply, count) => replies.queue(reply, count),
    reset: () => replies.reset(),
    close: async () => {
      replies.dropHanging();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** One or two accounts, the same for a user id on every run: a current account, sometimes savings. */
function defaultBook(userId: string): Ledger[] {
  const h = digest(`book:${userId}`);
  const count = 1 + (h[0]! % 2);
  return Array.from({ length: count }, (_, i) => {
    const accountNumber = `3${(h.readBigUInt64BE(8 + i * 8) % 100_000_000_000n).toString().padStart(11, '0')}`;
    const currency = i === 1 && h[1]! % 3 === 0 ? 'USD' : 'MWK';
    return { accountNumber, ownerUserId: userId, currency, product: i === 0 ? 'current' : 'savings', cents: openingCents(accountNumber, currency) };
  });
}

function openingCents(accountNumber: string, currency: string): bigint {
  const n = BigInt(digest(`balance:${accountNumber}`).readUInt32BE(0));
  // MWK 50,000–500,000; other currencies 100–2,100.
  return currency === 'MWK' ? 5_000_000n + (n % 45_000_000n) : 10_000n + (n % 200_000n);
}

function parseCents(amount: string): bigint {
  const match = /^(-?)(\d{1,15})(?:\.(\d{1,2}))?$/.exec(amount);
  if (!match) throw new Error(`"${amount}" is not an amount with at most two decimals`);
  const cents = BigInt(match[2]!) * 100n + BigInt((match[3] ?? '').padEnd(2, '0'));
  return match[1] ? -cents : cents;
}

function formatCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}
