import type { ChannelName } from '../channels/channel.js';
import type { EventType } from '../events/catalog/index.js';
import type { StoredEvent } from '../events/stored-event.js';
import type { Priority } from './priority.js';

export interface RoutingRule {
  channels: readonly ChannelName[];
  priority: Priority | ((event: StoredEvent) => Priority);
  /**
   * Who is told: `user` is metadata.userId (or payload.userId); `accountOwner` falls back to
   * the owner of payload.accountNumber when the publisher did not name the user.
   */
  recipient: 'user' | 'accountOwner';
}

/**
 * Amounts at or above these (in the currency's major unit) make a transaction critical.
 * Currencies not listed fall back to `default`, an amount that is large in any of them.
 */
export const largeTransactionThresholds: Record<string, number> = {
  MWK: 1_000_000,
  ZAR: 20_000,
  USD: 1_000,
  EUR: 1_000,
  GBP: 1_000,
  default: 1_000,
};

function transactionPriority(event: StoredEvent): Priority {
  const payload = event.payload as { amount?: string; currency?: string };
  const threshold = largeTransactionThresholds[payload.currency ?? ''] ?? largeTransactionThresholds.default!;
  return Number(payload.amount) >= threshold ? 'critical' : 'normal';
}

const all = ['push', 'email', 'sms'] as const;

/** The declarative routing table: customer-facing event types and how each reaches the customer. */
export const routingTable: Partial<Record<EventType, RoutingRule>> = {
  'transaction.created': { channels: ['push'], priority: 'low', recipient: 'accountOwner' },
  'transaction.completed': { channels: all, priority: transactionPriority, recipient: 'accountOwner' },
  'transaction.failed': { channels: ['push', 'sms'], priority: 'high', recipient: 'accountOwner' },
  'account.created': { channels: ['push', 'email'], priority: 'normal', recipient: 'accountOwner' },
  'account.frozen': { channels: all, priority: 'critical', recipient: 'accountOwner' },
  'account.unfrozen': { channels: all, priority: 'high', recipient: 'accountOwner' },
  'account.balance.low': { channels: all, priority: 'high', recipient: 'accountOwner' },
  'checkbook.requested': { channels: ['push', 'email'], priority: 'normal', recipient: 'accountOwner' },
  'checkbook.approved': { channels: ['push'], priority: 'normal', recipient: 'accountOwner' },
  'checkbook.ready': { channels: ['push', 'sms'], priority: 'normal', recipient: 'accountOwner' },
  'checkbook.collected': { channels: ['push'], priority: 'low', recipient: 'accountOwner' },
  'checkbook.rejected': { channels: all, priority: 'high', recipient: 'accountOwner' },
  'user.registered': { channels: ['email', 'sms'], priority: 'normal', recipient: 'user' },
  'user.login': { channels: ['push'], priority: 'normal', recipient: 'user' },
  'user.login.failed': { channels: all, priority: 'critical', recipient: 'user' },
  'alert.triggered': { channels: all, priority: 'high', recipient: 'accountOwner' },
};

export function ruleFor(type: string): RoutingRule | undefined {
  return routingTable[type as EventType];
}

export function priorityOf(rule: RoutingRule, event: StoredEvent): Priority {
  return typeof rule.priority === 'function' ? rule.priority(event) : rule.priority;
}

export const routedEventTypes = Object.keys(routingTable) as EventType[];
