import { z } from 'zod';
import { identifier, isoTimestamp } from './fields.js';

const syncStarted = z.strictObject({ syncId: identifier, trigger: z.enum(['schedule', 'transaction', 'manual']), accountNumbers: z.array(z.string()).max(10_000).optional() });
const discoveryStarted = z.strictObject({ discoveryId: identifier, userId: identifier });

export const serviceEvents = {
  'service.balance.sync.started': { aggregateType: 'service', payload: syncStarted },
  'service.balance.sync.completed': {
    aggregateType: 'service',
    payload: z.strictObject({
      syncId: identifier,
      accountsSynced: z.number().int().nonnegative(),
      accountsFailed: z.number().int().nonnegative(),
      durationMs: z.number().int().nonnegative(),
      completedAt: isoTimestamp.optional(),
    }),
  },
  'service.account.discovery.started': { aggregateType: 'service', payload: discoveryStarted },
  'service.account.discovery.completed': {
    aggregateType: 'service',
    payload: discoveryStarted.extend({ accountNumbers: z.array(z.string()).max(1_000) }),
  },
} as const;
