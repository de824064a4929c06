import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Ids Herald mints for its own rows (events it publishes or accepts without an id,
 * notifications, deliveries). UUIDv7 starts with the time, so new keys land on the rightmost
 * pages of their primary-key and foreign-key indexes instead of random ones: with millions of
 * rows stored, a random key costs a page read and, after each checkpoint, a full-page image in
 * the WAL per index entry. They are still unguessable enough to be public ids (74 random bits).
 */
export function newRowId(): string {
  return v7({ random: randomBytes16() });
}

// uuid asks the OS for 16 bytes per id; the hot path mints five ids per event, so random bytes
// are drawn 4 KiB at a time instead, as Node's own randomUUID does.
const pool = new Uint8Array(4096);
let next = pool.length;

function randomBytes16(): Uint8Array {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = pool.subarray(next, next + 16);
  next += 16;
  return bytes;
}
