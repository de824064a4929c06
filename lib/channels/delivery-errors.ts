export type DeliveryErrorKind = 'permanent' | 'transient' | 'configuration';

/** Base of the delivery error taxonomy. `code` is stable and safe to store and alert on. */
export abstract class DeliveryError extends Error {
  abstract readonly kind: DeliveryErrorKind;
  constructor(
    readonly code: string,
    message: string,
    readonly providerResponse?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The provider will never accept this message as it is: do not retry. */
export class PermanentDeliveryError extends DeliveryError {
  readonly kind = 'permanent' as const;
  constructor(code: string, message: string, providerResponse?: Record<string, unknown>, readonly deadTokens?: string[]) {
    super(code, message, providerResponse);
  }
}

/** Worth another attempt later; `retryAfterMs` is the provider's own hint when it gave one. */
export class TransientDeliveryError extends DeliveryError {
  readonly kind = 'transient' as const;
  constructor(code: string, message: string, readonly retryAfterMs?: number, providerResponse?: Record<string, unknown>) {
    super(code, message, providerResponse);
  }
}

/**
 * Herald's own set-up is wrong (credentials, sender identity): every message would fail the
 * same way, so the channel pauses and an operator is alerted instead of burning retries.
 */
export class ChannelConfigurationError extends DeliveryError {
  readonly kind = 'configuration' as const;
}

export function isDeliveryError(error: unknown): error is DeliveryError {
  return error instanceof DeliveryError;
}
