import { z } from 'zod';
import { identifier, text } from './fields.js';

const channelStatus = z.strictObject({
  channel: z.enum(['push', 'email', 'sms']),
  deliveryId: z.uuid(),
  status: z.string(),
  error: text(500).optional(),
});

const outcome = z.strictObject({
  notificationId: z.uuid(),
  eventId: z.uuid(),
  eventType: identifier,
  userId: identifier,
  channels: z.array(channelStatus).max(3),
});

export const notificationEvents = {
  'notification.sent': { aggregateType: 'notification', payload: outcome },
  'notification.failed': { aggregateType: 'notification', payload: outcome },
  'notification.dead_lettered': {
    aggregateType: 'notification',
    payload: z.strictObject({
      notificationId: z.uuid(),
      deliveryId: z.uuid(),
      eventId: z.uuid(),
      channel: z.enum(['push', 'email', 'sms']),
      attempts: z.number().int().nonnegative(),
      lastError: text(1000).optional(),
    }),
  },
} as const;
