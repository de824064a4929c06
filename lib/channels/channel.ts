import type { DeliveryError } from './delivery-errors.js';

export const channelNames = ['push', 'email', 'sms'] as const;
export type ChannelName = (typeof channelNames)[number];

export interface PushContent { title: string; body: string; data?: Record<string, string> }
export interface EmailContent { subject: string; text: string; html: string }
export interface SmsContent { text: string }
export interface ContentByChannel { push: PushContent; email: EmailContent; sms: SmsContent }

export interface Recipient {
  userId: string;
  email?: string | null;
  phone?: string | null;
  deviceTokens: string[];
  locale: string;
  timeZone: string;
}

export interface OutboundMessage<C extends ChannelName = ChannelName> {
  /** The idempotency mark: every provider request carries it, so a resend shows once. */
  deliveryId: string;
  notificationId: string;
  eventId: string;
  eventType: string;
  priority: string;
  attempt: number;
  recipient: Recipient;
  content: ContentByChannel[C];
}

export interface SendResult {
  providerMessageId?: string;
  /** A short, PII-free summary kept in notification_history. */
  response?: Record<string, unknown>;
  /** Device tokens the provider reported dead; the dispatcher deactivates them. */
  deadTokens?: string[];
}

/**
 * One adapter per provider. `send` resolves when the provider accepted the message and
 * otherwise throws a DeliveryError: each adapter knows its provider's errors, callers never
 * inspect messages.
 */
export interface Channel<C extends ChannelName = ChannelName> {
  readonly name: C;
  /** Whether the recipient has the contact details this channel needs. */
  canReach(recipient: Recipient): boolean;
  send(message: OutboundMessage<C>, signal?: AbortSignal): Promise<SendResult>;
  /** Maps any error thrown while sending into the permanent/transient/configuration taxonomy. */
  classify(error: unknown): DeliveryError;
  close?(): Promise<void>;
}

export type ChannelSet = { [C in ChannelName]?: Channel<C> };
