import { z } from 'zod';
import { accountNumber, identifier, text } from './fields.js';

const checkbook = z.strictObject({
  requestId: identifier,
  accountNumber,
  branch: text(120).optional(),
  leaves: z.number().int().positive().max(200).optional(),
});

export const checkbookEvents = {
  'checkbook.requested': { aggregateType: 'checkbook', payload: checkbook },
  'checkbook.approved': { aggregateType: 'checkbook', payload: checkbook },
  'checkbook.ready': { aggregateType: 'checkbook', payload: checkbook },
  'checkbook.collected': { aggregateType: 'checkbook', payload: checkbook },
  'checkbook.rejected': {
    aggregateType: 'checkbook',
    payload: checkbook.extend({ reason: text(200).optional() }),
  },
} as const;
