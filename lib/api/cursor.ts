import { HttpError } from './http-errors.js';

/** Keyset cursor over (timestamp, id), opaque to clients (base64url JSON). */
export function encodeCursor(at: Date | string, id: string): string {
  return Buffer.from(JSON.stringify([new Date(at).toISOString(), id])).toString('base64url');
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(parsed) || parsed.length !== 2) throw new Error('shape');
    const [at, id] = parsed as [unknown, unknown];
    if (typeof at !== 'string' || typeof id !== 'string' || !uuid.test(id)) throw new Error('fields');
    const date = new Date(at);
    if (Number.isNaN(date.getTime())) throw new Error('date');
    return { at: date, id };
  } catch {
    throw new HttpError('invalid_cursor', undefined, [{ path: 'cursor', message: 'is not a cursor this API issued' }]);
  }
}
