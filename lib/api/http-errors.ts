/**
 * The API's error catalogue. Every error response has one body shape,
 * `{ error, message, details? }`, where `error` is a stable machine-readable slug and each
 * slug has a stable `HERALD_ERR_*` code (sent in the `herald-error-code` header and logged).
 */
export const errorCatalogue = {
  validation_failed: { status: 400, code: 'HERALD_ERR_VALIDATION', message: 'The request is invalid' },
  invalid_cursor: { status: 400, code: 'HERALD_ERR_INVALID_CURSOR', message: 'cursor: is not a cursor this API issued' },
  unauthorized: { status: 401, code: 'HERALD_ERR_UNAUTHORIZED', message: 'A valid API key is required (Authorization: Bearer <key>)' },
  forbidden: { status: 403, code: 'HERALD_ERR_FORBIDDEN', message: 'The API key lacks the scope this route needs' },
  not_found: { status: 404, code: 'HERALD_ERR_NOT_FOUND', message: 'Not found' },
  conflict: { status: 409, code: 'HERALD_ERR_CONFLICT', message: 'The id is already used by a different event' },
  payload_too_large: { status: 413, code: 'HERALD_ERR_PAYLOAD_TOO_LARGE', message: 'The request body is over the size limit' },
  unsupported_media_type: { status: 415, code: 'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE', message: 'Send JSON (Content-Type: application/json)' },
  selection_too_large: { status: 422, code: 'HERALD_ERR_REPLAY_TOO_LARGE', message: 'The selection is too large' },
  rate_limited: { status: 429, code: 'HERALD_ERR_RATE_LIMITED', message: 'Too many requests for this API key' },
  internal_error: { status: 500, code: 'HERALD_ERR_INTERNAL', message: 'Internal error' },
  unavailable: { status: 503, code: 'HERALD_ERR_UNAVAILABLE', message: 'A backing store is unavailable; nothing was stored' },
} as const;

export type ErrorSlug = keyof typeof errorCatalogue;

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface ErrorBody {
  error: ErrorSlug;
  message: string;
  details?: ErrorDetail[];
}

export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  constructor(
    readonly slug: ErrorSlug,
    message?: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? errorCatalogue[slug].message);
    this.name = 'HttpError';
    this.statusCode = errorCatalogue[slug].status;
    this.code = errorCatalogue[slug].code;
  }

  body(): ErrorBody {
    return { error: this.slug, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

const unavailableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN',
  // Postgres: admin shutdown, crash shutdown, cannot connect now, too many connections
  '57P01', '57P02', '57P03', '53300',
  // Prisma: can't reach / timed out / closed
  'P1001', 'P1002', 'P1017', 'P2024',
]);

/** True when an error means Postgres (or another backing store) could not be reached at all. */
export function isUnavailableError(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (unavailableCodes.has(e.code) || e.code.startsWith('08'))) return true;
  if (typeof e.message === 'string' && /Connection terminated|connect ECONNREFUSED|Connection refused|timeout exceeded when trying to connect/i.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isUnavailableError(inner, depth + 1))) return true;
  return isUnavailableError(e.cause, depth + 1);
}
