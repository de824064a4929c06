/**
 * The seam between Herald and the bank's core banking system. Herald only reads from it: which
 * accounts a customer holds, and what their balances are. Money stays a decimal string.
 */
export interface CoreBanking {
  /** The customer's accounts as the core bank holds them (empty when it holds none). */
  listAccounts(userId: string, signal?: AbortSignal): Promise<CoreAccount[]>;
  /**
   * Balances of these accounts, in one request: at most `maxBatch` numbers. Accounts the core
   * bank does not know come back in `unknown`, not as an error for the whole batch.
   */
  getBalances(accountNumbers: string[], signal?: AbortSignal): Promise<BalanceLookup>;
  readonly maxBatch: number;
}

export interface CoreAccount {
  accountNumber: string;
  currency: string;
  /** The core bank's product name: current, savings, ... */
  product: string;
}

export interface CoreBalance {
  accountNumber: string;
  /** e.g. "1250.00"; negative when overdrawn. */
  balance: string;
  currency: string;
  /** When the core bank read the balance: a later sync never overwrites a newer balance with an older one. */
  asOf: string;
}

export interface BalanceLookup {
  balances: CoreBalance[];
  unknown: string[];
}

export type CoreBankingErrorKind = 'transient' | 'permanent';

/** Base of the core-banking error taxonomy. `code` is stable and safe to log and alert on. */
export abstract class CoreBankingError extends Error {
  abstract readonly kind: CoreBankingErrorKind;
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The core bank is down, slow or busy: the same request may well succeed later. */
export class TransientCoreBankingError extends CoreBankingError {
  readonly kind = 'transient' as const;
  constructor(code: string, message: string, readonly retryAfterMs?: number, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

/** The core bank refused this request as it is (bad credentials, unknown customer, a reply Herald cannot read). */
export class PermanentCoreBankingError extends CoreBankingError {
  readonly kind = 'permanent' as const;
}

export function isCoreBankingError(error: unknown): error is CoreBankingError {
  return error instanceof CoreBankingError;
}
