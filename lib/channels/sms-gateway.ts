import { readBody } from '../util/read-body.js';
import { deadline } from '../util/deadline.js';
import type { Channel, OutboundMessage, Recipient, SendResult } from './channel.js';
import {
  ChannelConfigurationError,
  PermanentDeliveryError,
  TransientDeliveryError,
  isDeliveryError,
  type DeliveryError,
} from './delivery-errors.js';

/** What a body template can draw on. */
export interface SmsBodyInput {
  to: string;
  text: string;
  /** The delivery id, also sent as Idempotency-Key. */
  reference: string;
  sender?: string;
}

/**
 * The gateway's JSON body: a function, or a field map from a (dot) path in the body to an input
 * field or a literal, e.g. `{ 'destination.msisdn': 'to', 'message.text': 'text',
 * clientRef: 'reference', channel: { value: 'SMS' } }`. The map form fits configuration files.
 */
export type SmsBodyTemplate =
  | ((input: SmsBodyInput) => unknown)
  | Record<string, keyof SmsBodyInput | { value: unknown }>;

export interface SmsGatewayOptions {
  url: string;
  /** e.g. `{ header: 'Authorization', value: 'Bearer …' }` or `{ header: 'X-Api-Key', value: '…' }`. */
  auth?: { header: string; value: string };
  headers?: Record<string, string>;
  /** Defaults to `{ to, text, reference }`. */
  body?: SmsBodyTemplate;
  sender?: string;
  /** Dot path of the gateway's message id in a 2xx JSON body; defaults to `messageId`. */
  messageIdPath?: string;
  timeoutMs?: number;
}

export const defaultSmsBody: SmsBodyTemplate = { to: 'to', text: 'text', reference: 'reference' };

export function createSmsGatewayChannel(options: SmsGatewayOptions): Channel<'sms'> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const buildBody = compileBody(options.body ?? defaultSmsBody);

  return {
    name: 'sms',
    canReach: (recipient: Recipient) => Boolean(recipient.phone),
    classify: classifySmsError,
    async send(message: OutboundMessage<'sms'>, signal?: AbortSignal): Promise<SendResult> {
      const to = message.recipient.phone;
      if (!to) throw new PermanentDeliveryError('no_phone_number', 'recipient has no phone number');
      const input: SmsBodyInput = { to, text: message.content.text, reference: message.deliveryId, sender: options.sender };
      const timeout = deadline(timeoutMs);
      try {
        const res = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...options.headers,
            ...(options.auth ? { [options.auth.header]: options.auth.value } : {}),
            // The gateway dedupes on this key, so a resend after a timeout or crash is sent once.
            'Idempotency-Key': message.deliveryId,
          },
          body: JSON.stringify(buildBody(input)),
          signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
        });
        const body = await readBody(res);
        if (!res.ok) throw new SmsGatewayHttpError(res.status, res.headers.get('retry-after'), body);
        const providerMessageId = pick(body, options.messageIdPath ?? 'messageId');
        return {
          providerMessageId: providerMessageId === undefined ? undefined : String(providerMessageId),
          response: { status: res.status },
        };
      } catch (error) {
        throw classifySmsError(timeout.signal.aborted && !isDeliveryError(error) ? new SmsTimeoutError(timeoutMs) : error);
      } finally {
        timeout.clear();
      }
    },
  };
}

/** A non-2xx answer, kept raw until classified. */
export class SmsGatewayHttpError extends Error {
  constructor(readonly status: number, readonly retryAfter: string | null, readonly body: unknown) {
    super(`SMS gateway answered HTTP ${status}`);
    this.name = 'SmsGatewayHttpError';
  }
}

class SmsTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`SMS gateway gave no answer within ${timeoutMs} ms`);
    this.name = 'SmsTimeoutError';
  }
}

export function classifySmsError(error: unknown): DeliveryError {
  if (isDeliveryError(error)) return error;
  if (error instanceof SmsGatewayHttpError) {
    // The gateway's own error code is useful in history; the echoed body may hold the number.
    const response = { status: error.status, ...gatewayCode(error.body) };
    const { status } = error;
    if (status === 401 || status === 403) return new ChannelConfigurationError('sms_auth_rejected', error.message, response);
    // 408 and 409 (the same key still in flight) are worth another try, like 429 and 5xx.
    if (status === 429 || status === 408 || status === 409 || status >= 500) {
      return new TransientDeliveryError(status === 429 ? 'sms_rate_limited' : 'sms_gateway_unavailable', error.message, parseRetryAfter(error.retryAfter), response);
    }
    return new PermanentDeliveryError('sms_rejected', error.message, response);
  }
  if (error instanceof SmsTimeoutError) return new TransientDeliveryError('sms_timeout', error.message);
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) return new TransientDeliveryError('sms_timeout', 'SMS send aborted before the gateway answered');
  // fetch() fails with a TypeError whose cause holds the socket error (ECONNREFUSED, ECONNRESET…).
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return new TransientDeliveryError('sms_connection_failed', message, undefined, code ? { code } : undefined);
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function compileBody(template: SmsBodyTemplate): (input: SmsBodyInput) => unknown {
  if (typeof template === 'function') return template;
  return (input) => {
    const body: Record<string, unknown> = {};
    for (const [path, source] of Object.entries(template)) {
      setPath(body, path, typeof source === 'string' ? input[source] : source.value);
    }
    return body;
  };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
}

function pick(body: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), body);
}

function gatewayCode(body: unknown): { gatewayCode?: string } {
  const code = pick(body, 'code') ?? pick(body, 'error.code') ?? pick(body, 'errorCode');
  return typeof code === 'string' || typeof code === 'number' ? { gatewayCode: String(code) } : {};
}
