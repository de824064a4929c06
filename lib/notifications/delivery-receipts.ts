import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { channelNames, type ChannelName } from '../channels/channel.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { isoTimestamp } from '../events/catalog/fields.js';
import type { DeliveryStatus } from './delivery-status.js';
import { maskEmail, maskPhone } from './templates/formatting.js';

/**
 * Signed delivery receipts (SPEC §4 "DELIVERED (provider receipt)"). A provider (or the
 * bank's ESB in front of it) POSTs a receipt to /v1/receipts/:channel; the route verifies the
 * signature on the raw body, parses it with `parseReceiptBody` and hands it to `applyReceipt`.
 */

export type ReceiptErrorCode = 'bad_signature' | 'stale_signature' | 'invalid_body' | 'unknown_delivery' | 'duplicate_receipt';

/** The HTTP answer each code maps to, for the receipts route. */
export const receiptErrorHttpStatus: Record<ReceiptErrorCode, number> = {
  bad_signature: 401,
  stale_signature: 401,
  invalid_body: 400,
  unknown_delivery: 404,
  duplicate_receipt: 409,
};

export class ReceiptError extends Error {
  constructor(
    readonly code: ReceiptErrorCode,
    message: string,
    /** For invalid_body: every offending field. */
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ReceiptError';
  }

  get httpStatus(): number {
    return receiptErrorHttpStatus[this.code];
  }
}

export function isReceiptError(error: unknown): error is ReceiptError {
  return error instanceof ReceiptError;
}

// ---------------------------------------------------------------------------------------
// Signature

export const defaultReceiptToleranceMs = 5 * 60_000;

export interface VerifyReceiptOptions {
  /** How far the signed timestamp may be from now, either way (default 5 minutes). */
  toleranceMs?: number;
  now?: () => Date;
}

/** Builds the header a sender attaches: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function signReceipt(rawBody: string | Buffer, secret: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, rawBody)}`;
}

function hmacHex(secret: string, t: number | string, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
}

/**
 * Checks `t=<unix seconds>,v1=<hex>` against HMAC-SHA256(secret, `${t}.${rawBody}`) with a
 * constant-time comparison; several v1 entries are accepted (secret rotation on the sender's
 * side). The signature is checked before the timestamp, then a timestamp further than the
 * tolerance from now (a replayed old receipt, or a forged future one) is refused.
 * Returns the signed time; throws ReceiptError `bad_signature` or `stale_signature`.
 */
export function verifyReceiptSignature(
  rawBody: string | Buffer,
  signatureHeader: string | undefined,
  secret: string,
  options: VerifyReceiptOptions = {},
): { timestamp: Date } {
  if (!secret) throw new TypeError('verifyReceiptSignature: the receipt signing secret is empty');
  if (!signatureHeader) throw new ReceiptError('bad_signature', 'missing receipt signature');

  let t: string | undefined;
  const candidates: string[] = [];
  for (const part of signatureHeader.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') t = value;
    else if (key === 'v1') candidates.push(value);
  }
  if (t === undefined || !/^\d{1,12}$/.test(t) || candidates.length === 0) {
    throw new ReceiptError('bad_signature', 'malformed receipt signature header');
  }

  const expected = Buffer.from(hmacHex(secret, t, rawBody), 'hex');
  let matched = false;
  for (const candidate of candidates) {
    if (!/^[0-9a-fA-F]{64}$/.test(candidate)) continue;
    // timingSafeEqual needs equal lengths, which the regex above guarantees (32 bytes).
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) matched = true;
  }
  if (!matched) throw new ReceiptError('bad_signature', 'receipt signature does not match');

  const signedAt = Number(t) * 1000;
  const now = (options.now?.() ?? new Date()).getTime();
  const tolerance = options.toleranceMs ?? defaultReceiptToleranceMs;
  if (Math.abs(now - signedAt) > tolerance) {
    throw new ReceiptError('stale_signature', `receipt signature timestamp is outside the ${Math.round(tolerance / 1000)} s tolerance`);
  }
  return { timestamp: new Date(signedAt) };
}

// ---------------------------------------------------------------------------------------
// Body

export const receiptStatuses = ['delivered', 'failed', 'bounced', 'undelivered'] as const;
export type ReceiptStatus = (typeof receiptStatuses)[number];

/** Unknown fields are dropped, so nothing a provider adds ends up in history. */
export const receiptBodySchema = z.object({
  receiptId: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  deliveryId: z.uuid('must be a UUID'),
  providerMessageId: z.string().max(200, 'must be at most 200 characters').optional(),
  status: z.enum(receiptStatuses, { error: `must be one of ${receiptStatuses.join(', ')}` }),
  occurredAt: isoTimestamp.optional(),
  detail: z.string().max(1_000, 'must be at most 1000 characters').optional(),
});
export type ReceiptBody = z.infer<typeof receiptBodySchema>;

/** Validates a receipt body (already JSON-parsed); throws ReceiptError `invalid_body` listing every problem. */
export function parseReceiptBody(input: unknown): ReceiptBody {
  const parsed = receiptBodySchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  throw new ReceiptError('invalid_body', `invalid receipt: ${details.map((d) => `${d.path || '(body)'}: ${d.message}`).join('; ')}`, details);
}

// ---------------------------------------------------------------------------------------
// Applying

export interface AppliedReceipt {
  receiptId: string;
  deliveryId: string;
  channel: ChannelName;
  outcome: 'delivered' | 'failed';
  previousStatus: DeliveryStatus;
  status: DeliveryStatus;
  /** False when the delivery was not in a state this receipt may move (recorded, state kept). */
  transitioned: boolean;
}

/** Provider free text can quote the address it failed to reach: mask emails and phone numbers. */
function scrubDetail(detail: string): string {
  return detail
    .replace(/[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[A-Za-z]{2,}/g, (email) => maskEmail(email))
    .replace(/\+?\d[\d -]{6,}\d/g, (phone) => maskPhone(phone.replace(/[ -]/g, '')));
}

/**
 * Applies one verified receipt in a single transaction:
 * - the receipt is recorded in delivery_receipts (its id is the key: a second copy is
 *   `duplicate_receipt` and changes nothing);
 * - `delivered` moves SENT → DELIVERED (delivered_at = now); `failed` / `bounced` /
 *   `undelivered` move SENT or DELIVERED → FAILED with last_error;
 * - a notification_history row records it (provider_response without PII).
 * An unknown delivery id, or a delivery of another channel, is `unknown_delivery` with no
 * side effect. A delivery in any other state (e.g. still SENDING, or already FAILED) keeps
 * its state; the receipt and its history row are still recorded (`transitioned: false`).
 */
export async function applyReceipt(pool: Pool, channel: string, receipt: ReceiptBody): Promise<AppliedReceipt> {
  const body = parseReceiptBody(receipt);
  if (!(channelNames as readonly string[]).includes(channel)) {
    throw new ReceiptError('unknown_delivery', `unknown channel ${JSON.stringify(channel)}`);
  }
  const outcome: AppliedReceipt['outcome'] = body.status === 'delivered' ? 'delivered' : 'failed';
  const detail = body.detail === undefined ? undefined : scrubDetail(body.detail);

  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ channel: string; status: DeliveryStatus; attempts: number }>(
      `SELECT channel, status, attempts FROM notification_deliveries WHERE id = $1 FOR UPDATE`,
      [body.deliveryId],
    );
    const delivery = rows[0];
    if (!delivery || delivery.channel !== channel) {
      throw new ReceiptError('unknown_delivery', `no ${channel} delivery ${body.deliveryId}`);
    }

    const inserted = await client.query(
      `INSERT INTO delivery_receipts (id, channel, delivery_id, outcome, provider_status)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [body.receiptId, channel, body.deliveryId, outcome, body.status],
    );
    if (inserted.rowCount === 0) {
      throw new ReceiptError('duplicate_receipt', `receipt ${body.receiptId} was already applied`);
    }

    const error = outcome === 'failed' ? `provider receipt: ${body.status}${detail ? `: ${detail}` : ''}`.slice(0, 2_000) : null;
    const errorCode = outcome === 'failed' ? `receipt_${body.status}` : null;
    let status = delivery.status;
    if (outcome === 'delivered' && delivery.status === 'SENT') {
      await client.query(
        `UPDATE notification_deliveries SET status = 'DELIVERED', delivered_at = now(), updated_at = now() WHERE id = $1`,
        [body.deliveryId],
      );
      status = 'DELIVERED';
    } else if (outcome === 'failed' && (delivery.status === 'SENT' || delivery.status === 'DELIVERED')) {
      await client.query(
        `UPDATE notification_deliveries SET status = 'FAILED', last_error = $2, last_error_code = $3, updated_at = now() WHERE id = $1`,
        [body.deliveryId, error, errorCode],
      );
      status = 'FAILED';
    }
    const transitioned = status !== delivery.status;

    const providerResponse = {
      source: 'receipt',
      receiptId: body.receiptId,
      providerStatus: body.status,
      ...(body.providerMessageId !== undefined && { providerMessageId: body.providerMessageId }),
      ...(body.occurredAt !== undefined && { occurredAt: body.occurredAt }),
      ...(detail !== undefined && { detail }),
      ...(!transitioned && { ignoredInStatus: delivery.status }),
    };
    await client.query(
      `INSERT INTO notification_history (delivery_id, channel, attempt, status, provider_response, error, error_code)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [body.deliveryId, channel, delivery.attempts, status, JSON.stringify(providerResponse), error, errorCode],
    );

    return {
      receiptId: body.receiptId,
      deliveryId: body.deliveryId,
      channel: channel as ChannelName,
      outcome,
      previousStatus: delivery.status,
      status,
      transitioned,
    };
  });
}
