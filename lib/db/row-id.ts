import { v7 } from 'uuid';

/**
 * Ids Herald mints for its own rows (events it publishes or accepts without an id,
 * notifications, deliveries). UUIDv7 starts with the time, so new keys land on the rightmost
 * pages of their primary-key and foreign-key indexes instead of random ones: with millions of
 * rows stored, a random key costs a page read and, after each checkpoint, a full-page image in
 * the WAL per index entry. They are still unguessable enough to be public ids (74 random bits).
 */
export function newRowId(): string {
  return v7();
}
