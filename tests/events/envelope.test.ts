import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../lib/events/envelope.js';
import { EventValidationError } from '../../lib/events/validation-error.js';

const valid = {
  type: 'transaction.completed',
  aggregateType: 'transaction',
  aggregateId: 'txn-1',
  payload: { transactionId: 'txn-1', accountNumber: '1002003004', amount: '1250.00', currency: 'MWK', direction: 'debit' },
  metadata: { userId: 'u-1', source: 'core-banking' },
};

function problems(input: unknown, maxPayloadBytes?: number) {
  try {
    parseEvent(input, { maxPayloadBytes });
  } catch (error) {
    expect(error).toBeInstanceOf(EventValidationError);
    return (error as EventValidationError).details;
  }
  throw new Error('expected a validation error');
}

describe('parseEvent', () => {
  it('accepts a valid event and fills in id and timestamp', () => {
    const event = parseEvent(valid);
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(event.timestamp)).not.toBeNaN();
    expect(event.payload).toEqual(valid.payload);
  });

  it('names every wrong field at once', () => {
    const details = problems({ ...valid, payload: { ...valid.payload, amount: 1250.5, currency: 'mwk', direction: 'sideways' } });
    expect(details.map((d) => d.path).sort()).toEqual(['payload.amount', 'payload.currency', 'payload.direction']);
    expect(details.find((d) => d.path === 'payload.amount')?.message).toMatch(/decimal string/);
  });

  it('reports missing fields by path', () => {
    const { transactionId: _omit, ...payload } = valid.payload;
    const details = problems({ ...valid, payload, metadata: {} });
    expect(details).toEqual(
      expect.arrayContaining([
        { path: 'payload.transactionId', message: 'is required' },
        { path: 'metadata.source', message: 'is required' },
      ]),
    );
  });

  it('rejects an unknown event type', () => {
    expect(problems({ ...valid, type: 'transaction.teleported' })).toEqual([{ path: 'type', message: 'is not a known event type' }]);
  });

  it('rejects an aggregate type that does not match the event type', () => {
    expect(problems({ ...valid, aggregateType: 'account' })).toEqual([
      { path: 'aggregateType', message: 'must be "transaction" for transaction.completed' },
    ]);
  });

  it('rejects fields the schema does not know, so typos do not pass silently', () => {
    expect(problems({ ...valid, payload: { ...valid.payload, ammount: '1' } })[0]?.path).toBe('payload');
  });

  it('rejects an oversized payload with its size and the limit', () => {
    const details = problems({ ...valid, payload: { ...valid.payload, description: 'x'.repeat(180) } }, 200);
    expect(details).toEqual([{ path: 'payload', message: expect.stringMatching(/^is \d+ bytes; the limit is 200$/) }]);
  });

  it('rejects a float amount on every money field, never rounding it', () => {
    const details = problems({ type: 'account.balance.low', aggregateType: 'account', aggregateId: 'a', payload: { accountNumber: '1002003004', balance: 10.5, threshold: '100.00', currency: 'MWK' }, metadata: { source: 's' } });
    expect(details.map((d) => d.path)).toEqual(['payload.balance']);
  });

  it('names a missing or non-object payload', () => {
    const { payload: _omit, ...noPayload } = valid;
    expect(problems(noPayload)).toEqual([{ path: 'payload', message: 'is required' }]);
    expect(problems({ ...valid, payload: [valid.payload] })).toEqual([{ path: 'payload', message: 'must be an object' }]);
    expect(problems({ ...valid, payload: null })).toEqual([{ path: 'payload', message: 'must be an object' }]);
  });

  it('rejects a non-object body', () => {
    expect(problems('hello')).toEqual([{ path: '', message: 'must be a JSON object' }]);
  });
});
