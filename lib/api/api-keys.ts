import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import { announceRevocationLocally } from './api-key-revocations.js';

/**
 * Scopes: `read` (queries, stats), `publish` (publish events; write customer preferences,
 * contacts and devices), `admin` (replay, dead letters). `admin` implies `read` and `publish`.
 */
export const apiScopes = ['publish', 'read', 'admin'] as const;
export type ApiScope = (typeof apiScopes)[number];

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiScope[];
  rateLimitPerMinute: number | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const keyPrefix = 'hrld_';

// Every authenticated request hashes its key: the one-shot hash() skips the Hash object that
// createHash() builds (Node >= 20.12).
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export function hasScope(granted: readonly string[], needed: ApiScope): boolean {
  return granted.includes(needed) || granted.includes('admin');
}

export function isApiScope(value: string): value is ApiScope {
  return (apiScopes as readonly string[]).includes(value);
}

/** Creates a key; the clear key is returned once and only its SHA-256 is stored. */
export async function createApiKey(
  pool: Pool,
  input: { name: string; scopes: ApiScope[]; rateLimitPerMinute?: number | null },
): Promise<{ key: string; record: ApiKeyRecord }> {
  if (!input.name.trim()) throw new Error('name: is required');
  if (input.scopes.length === 0) throw new Error('scopes: at least one of publish, read, admin');
  for (const s of input.scopes) if (!isApiScope(s)) throw new Error(`scopes: "${s}" is not one of ${apiScopes.join(', ')}`);
  if (input.rateLimitPerMinute != null && (!Number.isInteger(input.rateLimitPerMinute) || input.rateLimitPerMinute <= 0)) {
    throw new Error('rateLimitPerMinute: must be a positive integer');
  }
  const key = keyPrefix + randomBytes(32).toString('base64url');
  const { rows } = await pool.query(
    `INSERT INTO api_keys (name, prefix, key_hash, scopes, rate_limit_per_minute)
     VALUES ($1, $2, $3, $4::text[], $5) RETURNING ${columns}`,
    [input.name.trim(), key.slice(0, keyPrefix.length + 6), hashApiKey(key), [...new Set(input.scopes)], input.rateLimitPerMinute ?? null],
  );
  return { key, record: toRecord(rows[0]) };
}

/** Cheap shape check before any hashing or lookup: anything else cannot be a key Herald issued. */
export function isWellFormedApiKey(key: string): boolean {
  return key.startsWith(keyPrefix) && key.length <= 200;
}

/** The active key whose SHA-256 is `hash`, or null (unknown or revoked). Reads only. */
export async function findApiKeyByHash(pool: Pool, hash: string): Promise<ApiKeyRecord | null> {
  const { rows } = await pool.query(`SELECT ${columns}, key_hash FROM api_keys WHERE key_hash = $1`, [hash]);
  const row = rows[0];
  if (!row || row.revoked_at) return null;
  // The lookup is by hash; the constant-time compare is belt and braces against index timing.
  if (!timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
  return toRecord(row);
}

/** last_used_at is bookkeeping: at most one write per key per minute, never awaited. */
export function touchApiKey(pool: Pool, id: string): void {
  pool
    .query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [id])
    .catch(() => {});
}

/**
 * The active key matching `key`, or null (unknown, malformed or revoked), straight from
 * Postgres. The API's hot path goes through ApiKeyCache (api-key-cache.ts) instead.
 */
export async function verifyApiKey(pool: Pool, key: string): Promise<ApiKeyRecord | null> {
  if (!isWellFormedApiKey(key)) return null;
  const record = await findApiKeyByHash(pool, hashApiKey(key));
  if (record) touchApiKey(pool, record.id);
  return record;
}

/**
 * Revokes in Postgres, then drops the key from every cache in this process at once. Other
 * processes learn of it from broadcastApiKeyRevocation (api-key-revocations.ts), or at the
 * latest when their cached entry expires (API_KEY_CACHE_TTL_MS).
 */
export async function revokeApiKey(pool: Pool, id: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
  const result = await pool.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
  const revoked = (result.rowCount ?? 0) > 0;
  if (revoked) announceRevocationLocally(id);
  return revoked;
}

export async function listApiKeys(pool: Pool): Promise<ApiKeyRecord[]> {
  const { rows } = await pool.query(`SELECT ${columns} FROM api_keys ORDER BY created_at, id`);
  return rows.map(toRecord);
}

const columns = 'id, name, prefix, scopes, rate_limit_per_minute, created_at, last_used_at, revoked_at';

function toRecord(row: Record<string, unknown>): ApiKeyRecord {
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : null);
  return {
    id: row.id as string,
    name: row.name as string,
    prefix: row.prefix as string,
    scopes: ((row.scopes as string[] | null) ?? []).filter(isApiScope),
    rateLimitPerMinute: (row.rate_limit_per_minute as number | null) ?? null,
    createdAt: iso(row.created_at)!,
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
  };
}
