import { z } from 'zod';
import { accountNumber, amount, currency, identifier, signedAmount, text } from './fields.js';

const transaction = z.strictObject({
  transactionId: identifier,
  accountNumber,
  amount,
  currency,
  direction: z.enum(['debit', 'credit']),
  description: text(200).optional(),
  counterparty: text(200).optional(),
  balanceAfter: signedAmount.optional(),
});

export const transactionEvents = {
  'transaction.created': { aggregateType: 'transaction', payload: transaction },
  'transaction.completed': { aggregateType: 'transaction', payload: transaction },
  'transaction.failed': {
    aggregateType: 'transaction',
    payload: transaction.extend({ reason: text(200).optional() }),
  },
} as const;
