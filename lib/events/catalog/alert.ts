import { z } from 'zod';
import { accountNumber, identifier, signedAmount, text } from './fields.js';

export const alertEvents = {
  'alert.triggered': {
    aggregateType: 'alert',
    payload: z.strictObject({
      alertId: identifier,
      accountNumber: accountNumber.optional(),
      rule: z.enum(['balance_below', 'balance_above', 'debit_over', 'custom']),
      value: signedAmount,
      threshold: signedAmount.optional(),
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code').optional(),
      description: text(200).optional(),
    }),
  },
} as const;
