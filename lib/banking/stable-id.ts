import { v5 } from 'uuid';

/** Herald's namespace for the ids of events it derives from other facts (RFC 9562 name-based ids). */
const heraldNamespace = '6f1c0a4e-9b2d-5e7f-a3c4-8d2b1e0f9a57';

/**
 * A UUIDv5 of the given parts: the same facts always name the same event, so a retried run or
 * a redelivered hint stores it once (an event id is its idempotency key).
 */
export function stableEventId(...parts: string[]): string {
  return v5(parts.join('\u0000'), heraldNamespace);
}
