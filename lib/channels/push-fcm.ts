import { randomUUID } from 'node:crypto';
import type { Agent } from 'node:http';
import { cert, deleteApp, initializeApp, type Credential, type GoogleOAuthAccessToken, type ServiceAccount } from 'firebase-admin/app';
import { getMessaging, type Message, type Messaging, type SendResponse } from 'firebase-admin/messaging';
import type { Channel, OutboundMessage, Recipient, SendResult } from './channel.js';
import {
  ChannelConfigurationError,
  PermanentDeliveryError,
  TransientDeliveryError,
  isDeliveryError,
  type DeliveryError,
} from './delivery-errors.js';

/** A service-account key file as Google issues it (parsed JSON). */
export interface FcmServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  [field: string]: unknown;
}

interface FcmCommonOptions {
  /**
   * Carries the SDK's requests to FCM: an egress proxy in production, the fake FCM server's
   * agent in tests and the sandbox. (firebase-admin 13.10 does not hand it to the service
   * account's OAuth token request, see `credential`.)
   */
  httpAgent?: Agent;
  /** Wait suggested after FCM's quota errors; Google asks for at least a minute. */
  rateLimitRetryMs?: number;
}

/**
 * Production passes the service-account key. Tests and the sandbox pass a `credential` (the fake
 * FCM server's): google-auth-library 10 fetches a service account's token from
 * oauth2.googleapis.com whatever agent is given, and nothing here may reach Google.
 */
export type FcmPushOptions = FcmCommonOptions &
  ({ serviceAccount: FcmServiceAccount; credential?: undefined } | { projectId: string; credential: Credential });

/** Transient, yet some tokens were reported dead: the dispatcher reads `deadTokens` off any error. */
export class FcmTransientError extends TransientDeliveryError {
  constructor(code: string, message: string, retryAfterMs: number | undefined, providerResponse: Record<string, unknown>, readonly deadTokens: string[]) {
    super(code, message, retryAfterMs, providerResponse);
  }
}

const MIN_RATE_LIMIT_WAIT_MS = 60_000;
const DEAD_TOKEN_CODES = new Set(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token']);
const RATE_LIMIT_CODES = new Set([
  'messaging/message-rate-exceeded',
  'messaging/device-message-rate-exceeded',
  'messaging/topics-message-rate-exceeded',
  'messaging/quota-exceeded',
]);
const CONFIG_CODES: Record<string, string> = {
  'messaging/mismatched-credential': 'fcm_sender_mismatch',
  'messaging/third-party-auth-error': 'fcm_auth_rejected',
  'messaging/authentication-error': 'fcm_auth_rejected',
  'app/invalid-credential': 'fcm_invalid_credential',
};
const TRANSIENT_CODES: Record<string, string> = {
  'messaging/server-unavailable': 'fcm_unavailable',
  'messaging/internal-error': 'fcm_internal_error',
  'messaging/unknown-error': 'fcm_unknown_error',
  'app/network-error': 'fcm_network_error',
  'app/network-timeout': 'fcm_timeout',
};

export function createFcmPushChannel(options: FcmPushOptions): Channel<'push'> & { close(): Promise<void> } {
  const credential = new ObservedCredential(
    options.credential ?? cert(options.serviceAccount as ServiceAccount, options.httpAgent),
  );
  const projectId = options.credential ? options.projectId : options.serviceAccount.project_id;
  const app = initializeApp(
    { credential, projectId, httpAgent: options.httpAgent },
    `herald-push-${randomUUID()}`,
  );
  const messaging = getMessaging(app);
  // sendEach's default HTTP/2 transport dials fcm.googleapis.com itself and ignores httpAgent;
  // HTTP/1.1 honours it, so proxies, the sandbox and tests all take the production code path.
  messaging.enableLegacyHttpTransport();
  boundSdkRetries(messaging);
  const rateLimitRetryMs = Math.max(options.rateLimitRetryMs ?? MIN_RATE_LIMIT_WAIT_MS, MIN_RATE_LIMIT_WAIT_MS);

  const classify = (error: unknown): DeliveryError => {
    if (isDeliveryError(error)) return error;
    const code = firebaseCode(error);
    const message = error instanceof Error ? error.message : String(error);
    const response = code ? { code } : undefined;
    if (code === 'app/invalid-credential' && credential.lastFailureWasOutage()) {
      return new TransientDeliveryError('fcm_auth_unavailable', message, undefined, response);
    }
    if (code && CONFIG_CODES[code]) return new ChannelConfigurationError(CONFIG_CODES[code], message, response);
    if (code && RATE_LIMIT_CODES.has(code)) return new TransientDeliveryError('fcm_rate_limited', message, rateLimitRetryMs, response);
    if (code && TRANSIENT_CODES[code]) return new TransientDeliveryError(TRANSIENT_CODES[code], message, undefined, response);
    if (code === 'messaging/registration-token-not-registered') return new PermanentDeliveryError('fcm_token_unregistered', message, response);
    if (code === 'messaging/invalid-registration-token') return new PermanentDeliveryError('fcm_token_invalid', message, response);
    if (code === 'messaging/invalid-argument') return new PermanentDeliveryError('fcm_invalid_argument', message, response);
    if (code?.startsWith('messaging/')) return new PermanentDeliveryError('fcm_invalid_message', message, response);
    if (isAbort(error)) return new TransientDeliveryError('fcm_timeout', 'push send aborted before FCM answered');
    return new TransientDeliveryError('fcm_error', message, undefined, response);
  };

  return {
    name: 'push',
    canReach: (recipient: Recipient) => recipient.deviceTokens.length > 0,
    classify,
    async send(message: OutboundMessage<'push'>, signal?: AbortSignal): Promise<SendResult> {
      const tokens = [...new Set(message.recipient.deviceTokens)];
      if (tokens.length === 0) throw new PermanentDeliveryError('no_device_tokens', 'recipient has no device token');
      try {
        signal?.throwIfAborted();
        const batch = await untilAborted(messaging.sendEach(tokens.map((token) => toFcmMessage(message, token))), signal);
        return interpret(tokens, batch.responses, classify);
      } catch (error) {
        throw classify(error);
      }
    },
    close: () => deleteApp(app),
  };
}

/**
 * One message per device, all marked with the delivery id: Android collapses on collapseKey and
 * replaces a notification with the same tag, iOS on apns-collapse-id, browsers on the tag. A
 * resend after a crash therefore replaces the first copy instead of showing twice.
 */
function toFcmMessage(message: OutboundMessage<'push'>, token: string): Message {
  const id = message.deliveryId;
  const urgent = message.priority === 'critical';
  return {
    token,
    notification: { title: message.content.title, body: message.content.body },
    data: { ...message.content.data, deliveryId: id },
    android: { collapseKey: id, priority: urgent ? 'high' : 'normal', notification: { tag: id } },
    apns: { headers: { 'apns-collapse-id': id, 'apns-priority': urgent ? '10' : '5' } },
    webpush: { notification: { tag: id } },
  };
}

function interpret(tokens: string[], responses: SendResponse[], classify: (error: unknown) => DeliveryError): SendResult {
  const anySucceeded = responses.some((r) => r.success);
  const failures = responses.flatMap((r, i) => (r.success ? [] : [{ token: tokens[i]!, error: r.error }]));
  const deadTokens = failures.filter((f) => isDeadToken(f.error, anySucceeded)).map((f) => f.token);
  const errorCounts: Record<string, number> = {};
  for (const { error } of failures) {
    const code = firebaseCode(error) ?? 'unknown';
    errorCounts[code] = (errorCounts[code] ?? 0) + 1;
  }
  // Counts only: tokens are credentials for a customer's device and stay out of history.
  const summary = {
    devices: tokens.length,
    successCount: responses.length - failures.length,
    failureCount: failures.length,
    deadTokenCount: deadTokens.length,
    ...(failures.length ? { errors: errorCounts } : {}),
  };
  if (anySucceeded) {
    const first = responses.find((r) => r.success);
    return { providerMessageId: first?.messageId, response: summary, ...(deadTokens.length ? { deadTokens } : {}) };
  }
  const errors = failures.map((f) => classify(f.error));
  const config = errors.find((e) => e.kind === 'configuration');
  if (config) throw new ChannelConfigurationError(config.code, config.message, summary);
  const transient = errors.filter((e): e is TransientDeliveryError => e.kind === 'transient');
  if (transient.length) {
    const waits = transient.map((e) => e.retryAfterMs).filter((ms): ms is number => ms !== undefined);
    const retryAfterMs = waits.length ? Math.max(...waits) : undefined;
    const [first] = transient as [TransientDeliveryError];
    if (deadTokens.length) throw new FcmTransientError(first.code, first.message, retryAfterMs, summary, deadTokens);
    throw new TransientDeliveryError(first.code, first.message, retryAfterMs, summary);
  }
  if (deadTokens.length === tokens.length) {
    throw new PermanentDeliveryError('fcm_tokens_unregistered', 'FCM reported every device token dead', summary, deadTokens);
  }
  throw new PermanentDeliveryError(errors[0]!.code, errors[0]!.message, summary, deadTokens.length ? deadTokens : undefined);
}

/**
 * UNREGISTERED and an invalid token are always the token's fault. INVALID_ARGUMENT may instead
 * be our payload, so the token is only dropped when FCM accepted the same payload for another
 * device or said the token itself is invalid: a template bug must not wipe a customer's devices.
 */
function isDeadToken(error: unknown, payloadAccepted: boolean): boolean {
  const code = firebaseCode(error);
  if (code && DEAD_TOKEN_CODES.has(code)) return true;
  if (code !== 'messaging/invalid-argument') return false;
  return payloadAccepted || /registration token/i.test(error instanceof Error ? error.message : '');
}

function firebaseCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-z-]+\/[a-z-]+$/.test(code) ? code : undefined;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * firebase-admin has no abort hook for sendEach: the caller stops waiting and the request runs on
 * (bounded by the SDK's own 15 s timeout). A retry may then reach a device twice; the collapse
 * marks make it replace the first copy.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The SDK's request clients retry on their own (firebase-admin 13 api-request.js
 * defaultRetryConfig: up to 4 more POSTs on 503, ECONNRESET and ETIMEDOUT, honouring
 * Retry-After up to 60 s). A reset or timed-out POST may already have been delivered, so those
 * retries duplicate sends and hide the outcome from our retry worker. No public option turns
 * them off; the clients read `this.retry` on every failure, so it is replaced here. If a
 * firebase-admin upgrade moves these internals we fail at start-up rather than send twice
 * silently (tests/channels/push-fcm.test.ts pins this behaviour).
 */
function boundSdkRetries(messaging: Messaging): void {
  const handler = (messaging as unknown as { messagingRequestHandler?: Record<string, { retry?: unknown } | undefined> })
    .messagingRequestHandler;
  const clients = [handler?.httpClient, handler?.http2Client];
  if (!clients.every((client) => client && 'retry' in client)) {
    throw new Error('firebase-admin internals changed: cannot turn off its HTTP retries (see boundSdkRetries)');
  }
  for (const client of clients) client!.retry = { maxRetries: 0, statusCodes: [], ioErrorCodes: [], maxDelayInMillis: 0 };
}

/**
 * firebase-admin reports every token-fetch failure as app/invalid-credential, a revoked key and
 * an unreachable token endpoint alike. Remembering why the last fetch failed lets only a refusal
 * (4xx from the token endpoint) pause the channel, while an outage is retried.
 */
class ObservedCredential implements Credential {
  private lastFailureStatus: number | 'outage' | undefined;

  constructor(private readonly inner: Credential) {}

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    try {
      const token = await this.inner.getAccessToken();
      this.lastFailureStatus = undefined;
      return token;
    } catch (error) {
      const failure = error as { status?: unknown; response?: { status?: unknown } } | null | undefined;
      const status = failure?.response?.status ?? failure?.status;
      this.lastFailureStatus = typeof status === 'number' && status < 500 && status !== 429 ? status : 'outage';
      throw error;
    }
  }

  lastFailureWasOutage(): boolean {
    return this.lastFailureStatus === 'outage';
  }
}
