import type { z } from 'zod';
import { accountEvents } from './account.js';
import { alertEvents } from './alert.js';
import { checkbookEvents } from './checkbook.js';
import { notificationEvents } from './notification.js';
import { serviceEvents } from './service.js';
import { transactionEvents } from './transaction.js';
import { userEvents } from './user.js';

export const aggregateTypes = ['user', 'account', 'transaction', 'checkbook', 'alert', 'service', 'notification'] as const;
export type AggregateType = (typeof aggregateTypes)[number];

/** Every event Herald accepts. Adding a type here (plus a routing rule and templates) is all it takes. */
export const eventCatalog = {
  ...transactionEvents,
  ...accountEvents,
  ...checkbookEvents,
  ...userEvents,
  ...alertEvents,
  ...serviceEvents,
  ...notificationEvents,
} as const satisfies Record<string, { aggregateType: AggregateType; payload: z.ZodType }>;

export type EventCatalog = typeof eventCatalog;
export type EventType = keyof EventCatalog;
export type PayloadOf<T extends EventType> = z.infer<EventCatalog[T]['payload']>;
export const eventTypes = Object.keys(eventCatalog) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(eventCatalog, value);
}
