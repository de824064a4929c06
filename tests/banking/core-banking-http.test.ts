import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpCoreBanking } from '../../lib/banking/core-banking-http.js';
import { CoreBankingError, PermanentCoreBankingError, TransientCoreBankingError } from '../../lib/banking/core-banking.js';
import { startSimulatedCoreBank, type SimulatedCoreBank } from '../../lib/banking/sandbox/simulated-core-bank.js';
import { uniqueAccountNumber } from './support.js';

const banks: SimulatedCoreBank[] = [];
async function bank(options?: Parameters<typeof startSimulatedCoreBank>[0]) {
  const b = await startSimulatedCoreBank(options);
  banks.push(b);
  return b;
}
afterEach(async () => {
  await Promise.all(banks.splice(0).map((b) => b.close().catch(() => {})));
});

async function failure(promise: Promise<unknown>): Promise<CoreBankingError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CoreBankingError);
    return error as CoreBankingError;
  }
  throw new Error('expected a core-banking error');
}

describe('simulated core bank over the HTTP adapter', () => {
  it('gives every customer the same deterministic accounts, on any instance', async () => {
    const a = await bank();
    const b = await bank();
    const userId = `u-${randomUUID()}`;
    const first = await createHttpCoreBanking({ baseUrl: a.url }).listAccounts(userId);
    const again = await createHttpCoreBanking({ baseUrl: b.url }).listAccounts(userId);
    expect(first).toEqual(again);
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.length).toBeLessThanOrEqual(2);
    expect(first[0]).toMatchObject({ currency: 'MWK', product: 'current' });
    for (const account of first) expect(account.accountNumber).toMatch(/^[0-9]{12}$/);

    const balances = await createHttpCoreBanking({ baseUrl: a.url }).getBalances(first.map((x) => x.accountNumber));
    const elsewhere = await createHttpCoreBanking({ baseUrl: b.url }).getBalances(first.map((x) => x.accountNumber));
    expect(balances.balances.map((x) => x.balance)).toEqual(elsewhere.balances.map((x) => x.balance));
  });

  it('lists the accounts opened for a customer instead of a default book', async () => {
    const b = await bank();
    const userId = `u-${randomUUID()}`;
    const accountNumber = uniqueAccountNumber();
    b.openAccount({ accountNumber, ownerUserId: userId, currency: 'USD', product: 'savings', balance: '10.00' });
    expect(await createHttpCoreBanking({ baseUrl: b.url }).listAccounts(userId)).toEqual([{ accountNumber, currency: 'USD', product: 'savings' }]);
  });

  it('moves balances as transactions are posted, refuses overdrafts, and reports closed accounts unknown', async () => {
    const b = await bank();
    const core = createHttpCoreBanking({ baseUrl: b.url });
    const [one, two] = [uniqueAccountNumber(), uniqueAccountNumber()];
    b.setBalance(one, '1000.00');
    expect(b.postTransaction({ transactionId: 't1', accountNumber: one, amount: '250.50', direction: 'debit' })).toEqual({ status: 'posted', balanceAfter: '749.50', currency: 'MWK' });
    // The same transaction again is not posted twice.
    expect(b.postTransaction({ transactionId: 't1', accountNumber: one, amount: '250.50', direction: 'debit' })).toMatchObject({ balanceAfter: '749.50' });
    expect(b.postTransaction({ transactionId: 't2', accountNumber: one, amount: '5000.00', direction: 'debit' })).toMatchObject({ status: 'rejected', reason: 'insufficient_funds' });
    b.postTransaction({ transactionId: 't3', accountNumber: one, amount: '0.50', direction: 'credit' });
    b.closeAccount(two);

    const result = await core.getBalances([one, two]);
    expect(result.unknown).toEqual([two]);
    expect(result.balances).toEqual([{ accountNumber: one, balance: '750.00', currency: 'MWK', asOf: expect.any(String) }]);
    expect(b.requests.at(-1)).toMatchObject({ method: 'POST', path: '/balances', accountNumbers: [one, two] });
  });
});

describe('HTTP adapter error classification', () => {
  it('5xx and 429 are transient, with the Retry-After the bank gave', async () => {
    const b = await bank();
    const core = createHttpCoreBanking({ baseUrl: b.url });
    b.replyNext({ status: 503, body: { code: 'maintenance' }, headers: { 'retry-after': '7' } });
    const unavailable = await failure(core.getBalances([uniqueAccountNumber()]));
    expect(unavailable).toBeInstanceOf(TransientCoreBankingError);
    expect(unavailable).toMatchObject({ code: 'core_unavailable', retryAfterMs: 7_000, details: { status: 503, bankCode: 'maintenance' } });

    b.replyNext({ status: 429 });
    expect(await failure(core.listAccounts('someone'))).toMatchObject({ kind: 'transient', code: 'core_rate_limited' });
  });

  it('bad credentials, an unknown customer and other 4xx are permanent', async () => {
    const b = await bank({ auth: { header: 'X-Api-Key', value: 'right' } });
    const wrong = createHttpCoreBanking({ baseUrl: b.url, auth: { header: 'X-Api-Key', value: 'wrong' } });
    const auth = await failure(wrong.getBalances([uniqueAccountNumber()]));
    expect(auth).toBeInstanceOf(PermanentCoreBankingError);
    expect(auth.code).toBe('core_auth_rejected');

    const right = createHttpCoreBanking({ baseUrl: b.url, auth: { header: 'X-Api-Key', value: 'right' } });
    expect((await right.getBalances([uniqueAccountNumber()])).balances).toHaveLength(1);
    b.replyNext({ status: 404, body: { code: 'customer_not_found' } });
    expect(await failure(right.listAccounts('nobody'))).toMatchObject({ kind: 'permanent', code: 'customer_not_found' });
    b.replyNext({ status: 422 });
    expect(await failure(right.getBalances(['123456']))).toMatchObject({ kind: 'permanent', code: 'core_rejected' });
  });

  it('a malformed answer is permanent and names what is wrong', async () => {
    const b = await bank();
    b.replyNext({ status: 200, body: { balances: [{ accountNumber: '123456', balance: 12.5, currency: 'MWK', asOf: new Date().toISOString() }] } });
    const error = await failure(createHttpCoreBanking({ baseUrl: b.url }).getBalances(['123456']));
    expect(error).toMatchObject({ kind: 'permanent', code: 'core_bad_response' });
    expect(error.message).toContain('balances.0.balance');
  });

  it('no answer in time, a dropped connection and a stopped server are transient', async () => {
    const b = await bank();
    const core = createHttpCoreBanking({ baseUrl: b.url, timeoutMs: 200 });
    b.replyNext('hang');
    expect(await failure(core.getBalances(['123456']))).toMatchObject({ kind: 'transient', code: 'core_timeout' });
    b.replyNext('reset');
    expect(await failure(core.getBalances(['123456']))).toMatchObject({ kind: 'transient', code: 'core_connection_failed' });
    await b.close();
    expect(await failure(core.listAccounts('someone'))).toMatchObject({ kind: 'transient', code: 'core_connection_failed' });
  });
});
