import { z } from 'zod';
import { identifier, ip, text } from './fields.js';

const login = z.strictObject({
  userId: identifier,
  ip,
  device: text(200).optional(),
  attempts: z.number().int().nonnegative().optional(),
});

export const userEvents = {
  'user.registered': {
    aggregateType: 'user',
    payload: z.strictObject({
      userId: identifier,
      email: z.email('must be an email address').optional(),
      phone: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as "+265991234567"').optional(),
      locale: z.enum(['en', 'ny']).optional(),
      timeZone: text(64).optional(),
    }),
  },
  'user.login': { aggregateType: 'user', payload: login },
  'user.login.failed': { aggregateType: 'user', payload: login },
} as const;
