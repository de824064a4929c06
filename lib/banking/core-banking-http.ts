import { readBody } from '../util/read-body.js';
import { deadline } from '../util/deadline.js';
import { z } from 'zod';
import { parseRetryAfter } from '../channels/sms-gateway.js';
import { accountNumber, currency, signedAmount } from '../events/catalog/fields.js';
import {
  PermanentCoreBankingError,
  TransientCoreBankingError,
  isCoreBankingError,
  type BalanceLookup,
  type CoreAccount,
  type CoreBanking,
  type CoreBankingError,
} from './core-banking.js';

/**
 * The core bank's adapter contract over HTTP (JSON both ways), which the simulated core bank
 * also speaks:
 *   GET  {base}/customers/{userId}/accounts → 200 { accounts: [{ accountNumber, currency, product }] } · 404 unknown customer
 *   POST {base}/balances { accountNumbers } → 200 { balances: [{ accountNumber, balance, currency, asOf }], unknown: [accountNumber] }
 */
export interface HttpCoreBankingOptions {
  baseUrl: string;
  /** e.g. `{ header: 'Authorization', value: 'Bearer …' }`. */
  auth?: { header: string; value: string };
  timeoutMs?: number;
  /** Account numbers per balance request. */
  maxBatch?: number;
}

const accountsReply = z.object({
  accounts: z.array(z.object({ accountNumber, currency, product: z.string().min(1).max(60) })).max(1_000),
});
const balancesReply = z.object({
  balances: z.array(z.object({ accountNumber, balance: signedAmount, currency, asOf: z.iso.datetime({ offset: true }) })),
  unknown: z.array(z.string()).default([]),
});

export function createHttpCoreBanking(options: HttpCoreBankingOptions): CoreBanking {
  const base = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  const timeoutMs = options.timeoutMs ?? 5_000;

  async function call<T>(operation: string, path: string, schema: z.ZodType<T>, init: { method: string; body?: unknown }, signal?: AbortSignal): Promise<T> {
    const timeout = deadline(timeoutMs);
    let res: Response;
    let body: unknown;
    try {
      res = await fetch(new URL(path, base), {
        method: init.method,
        headers: {
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.auth ? { [options.auth.header]: options.auth.value } : {}),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
      });
      body = await readBody(res);
    } catch (error) {
      throw classifyTransportError(error, timeout.signal.aborted, timeoutMs);
    } finally {
      timeout.clear();
    }
    if (!res.ok) throw classifyHttpStatus(operation, res.status, res.headers.get('retry-after'), body);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const problem = parsed.error.issues[0]!;
      throw new PermanentCoreBankingError('core_bad_response', `core bank's ${operation} reply is malformed at ${problem.path.join('.') || '(root)'}: ${problem.message}`);
    }
    return parsed.data;
  }

  return {
    maxBatch: options.maxBatch ?? 200,
    async listAccounts(userId, signal): Promise<CoreAccount[]> {
      const reply = await call('listAccounts', `customers/${encodeURIComponent(userId)}/accounts`, accountsReply, { method: 'GET' }, signal);
      return reply.accounts;
    },
    async getBalances(accountNumbers, signal): Promise<BalanceLookup> {
      if (accountNumbers.length === 0) return { balances: [], unknown: [] };
      return call('getBalances', 'balances', balancesReply, { method: 'POST', body: { accountNumbers } }, signal);
    },
  };
}

export function classifyHttpStatus(operation: string, status: number, retryAfter: string | null, body: unknown): CoreBankingError {
  const details = { status, ...bankCode(body) };
  const message = `core bank answered HTTP ${status} to ${operation}`;
  if (status === 401 || status === 403) return new PermanentCoreBankingError('core_auth_rejected', message, details);
  if (status === 404 && operation === 'listAccounts') return new PermanentCoreBankingError('customer_not_found', message, details);
  if (status === 429) return new TransientCoreBankingError('core_rate_limited', message, parseRetryAfter(retryAfter), details);
  if (status === 408 || status >= 500) return new TransientCoreBankingError('core_unavailable', message, parseRetryAfter(retryAfter), details);
  return new PermanentCoreBankingError('core_rejected', message, details);
}

function classifyTransportError(error: unknown, timedOut: boolean, timeoutMs: number): CoreBankingError {
  if (isCoreBankingError(error)) return error;
  if (timedOut) return new TransientCoreBankingError('core_timeout', `core bank gave no answer within ${timeoutMs} ms`);
  if (error instanceof Error && error.name === 'AbortError') return new TransientCoreBankingError('core_aborted', 'core-banking request aborted by the caller');
  // fetch() fails with a TypeError whose cause holds the socket error (ECONNREFUSED, ECONNRESET…).
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return new TransientCoreBankingError('core_connection_failed', error instanceof Error ? error.message : String(error), undefined, code ? { code } : undefined);
}

function bankCode(body: unknown): { bankCode?: string } {
  const code = body && typeof body === 'object' ? (body as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? { bankCode: code } : {};
}
