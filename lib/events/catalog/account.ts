import { z } from 'zod';
import { accountNumber, amount, currency, identifier, signedAmount, text } from './fields.js';

export const accountEvents = {
  'account.created': {
    aggregateType: 'account',
    payload: z.strictObject({
      accountNumber,
      ownerUserId: identifier,
      currency,
      productType: text(60).optional(),
    }),
  },
  'account.frozen': {
    aggregateType: 'account',
    payload: z.strictObject({ accountNumber, reason: text(200).optional() }),
  },
  'account.unfrozen': {
    aggregateType: 'account',
    payload: z.strictObject({ accountNumber, reason: text(200).optional() }),
  },
  'account.balance.low': {
    aggregateType: 'account',
    payload: z.strictObject({ accountNumber, balance: signedAmount, threshold: amount, currency }),
  },
} as const;
