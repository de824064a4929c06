import type { ConnectionOptions } from 'node:tls';
import nodemailer from 'nodemailer';
import type { Channel, OutboundMessage, Recipient, SendResult } from './channel.js';
import {
  ChannelConfigurationError,
  PermanentDeliveryError,
  TransientDeliveryError,
  isDeliveryError,
  type DeliveryError,
} from './delivery-errors.js';

export interface SmtpEmailOptions {
  host: string;
  port: number;
  /** Implicit TLS (port 465); otherwise STARTTLS when offered, or always with `requireTls`. */
  secure?: boolean;
  requireTls?: boolean;
  tls?: ConnectionOptions;
  auth?: { user: string; pass: string };
  /** Sender, e.g. `"Herald Bank" <no-reply@bank.example>`. */
  from: string;
  /** Right-hand side of `Message-ID: <deliveryId@domain>`. */
  messageIdDomain: string;
  /** Journal copy for the bank's mail archive, sent in the same SMTP transaction as Bcc. */
  journalBcc?: string;
  maxConnections?: number;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
}

const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'ECONNREFUSED', 'ECONNRESET', 'EDNS', 'EPROXY']);
const AUTH_REPLY_CODES = new Set([530, 534, 535, 538]);

interface SmtpError {
  code?: string;
  /** The socket's own code under nodemailer's (ECONNREFUSED under ESOCKET). */
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  recipient?: string;
}

export function createSmtpEmailChannel(options: SmtpEmailOptions): Channel<'email'> & { close(): Promise<void> } {
  const transport = nodemailer.createTransport({
    pool: true,
    // By default the pool silently requeues (up to 5 times) a message whose connection closed
    // under it; nodemailer < 10.0.12 did so even mid-transaction, i.e. possibly after the server
    // had queued it. Our retry worker owns retries (same Message-ID, recorded, backed off).
    maxRequeues: 0,
    maxConnections: options.maxConnections ?? 5,
    host: options.host,
    port: options.port,
    secure: options.secure ?? false,
    requireTLS: options.requireTls ?? false,
    tls: options.tls,
    auth: options.auth,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
  });

  return {
    name: 'email',
    canReach: (recipient: Recipient) => Boolean(recipient.email),
    classify: classifySmtpError,
    async send(message: OutboundMessage<'email'>, signal?: AbortSignal): Promise<SendResult> {
      const to = message.recipient.email;
      if (!to) throw new PermanentDeliveryError('no_email_address', 'recipient has no email address');
      const messageId = `<${message.deliveryId}@${options.messageIdDomain}>`;
      try {
        const info = await transport.sendMail({
          from: options.from,
          to,
          bcc: options.journalBcc,
          subject: message.content.subject,
          text: message.content.text,
          html: message.content.html,
          messageId,
          signal,
        });
        return interpretAccepted(to, info, messageId);
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    close: async () => transport.close(),
  };
}

/**
 * The server answers RCPT TO per address, so with the journal copy one of the two can be refused
 * while the message is still sent. What counts is the customer's address: refused → the
 * delivery failed (by that reply's class), even though the journal got a copy; a refused
 * journal copy alone does not fail the customer's delivery, it is flagged in the response.
 */
function interpretAccepted(
  to: string,
  info: { rejected: string[]; rejectedErrors?: SmtpError[]; response: string; serverMessageId?: string },
  messageId: string,
): SendResult {
  const same = (address: string | undefined) => address?.toLowerCase() === to.toLowerCase();
  if (info.rejected.some(same)) {
    const reply = info.rejectedErrors?.find((e) => same(e.recipient)) ?? { responseCode: 550, message: 'recipient rejected' };
    throw classifySmtpError({ ...reply, code: 'EENVELOPE', command: 'RCPT TO' });
  }
  return {
    providerMessageId: info.serverMessageId ?? messageId,
    response: { smtp: maskAddresses(info.response), ...(info.rejected.length ? { journalRejected: true } : {}) },
  };
}

export function classifySmtpError(error: unknown): DeliveryError {
  if (isDeliveryError(error)) return error;
  const e = (error ?? {}) as SmtpError;
  const message = maskAddresses(e.message ?? String(error));
  const reply = e.responseCode ? { responseCode: e.responseCode, response: maskAddresses(e.response ?? '') } : undefined;
  const response = {
    ...(e.code ? { code: e.code } : {}),
    ...(e.originalCode ? { originalCode: e.originalCode } : {}),
    ...(e.command ? { command: e.command } : {}),
    ...reply,
  };

  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || (e.responseCode && AUTH_REPLY_CODES.has(e.responseCode))) {
    return new ChannelConfigurationError('smtp_auth_failed', message, response);
  }
  if (e.code === 'ETLS' || e.code === 'EREQUIRETLS' || e.code === 'ECONFIG') {
    return new ChannelConfigurationError('smtp_tls_or_config', message, response);
  }
  if (e.responseCode) {
    // RFC 5321: 4yz is "try again later"; 503 (bad sequence) is about the session, not the message.
    const permanent = e.responseCode >= 500 && e.responseCode !== 503;
    if (!permanent) return new TransientDeliveryError('smtp_deferred', message, undefined, response);
    // The sender identity is ours: every message would be refused the same way.
    if (e.command === 'MAIL FROM') return new ChannelConfigurationError('smtp_sender_rejected', message, response);
    if (e.command === 'RCPT TO') return new PermanentDeliveryError('smtp_recipient_rejected', message, response);
    return new PermanentDeliveryError('smtp_rejected', message, response);
  }
  if (e.code === 'EABORT') return new TransientDeliveryError('smtp_timeout', 'email send aborted before the server answered', undefined, response);
  if (e.code && CONNECTION_CODES.has(e.code)) return new TransientDeliveryError('smtp_connection_failed', message, undefined, response);
  if (e.code === 'EENVELOPE') return new PermanentDeliveryError('smtp_invalid_address', message, response);
  return new TransientDeliveryError('smtp_error', message, undefined, response);
}

/** Server replies quote addresses ("550 <jane@example.com> unknown"); history must not. */
function maskAddresses(text: string): string {
  return text.replace(/[^\s<>"'@]+@[^\s<>"'@]+/g, '[address]');
}
