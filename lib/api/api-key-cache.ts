import type { Pool } from '../db/pool.js';
import { Semaphore } from '../util/semaphore.js';
import { findApiKeyByHash, hashApiKey, isWellFormedApiKey, touchApiKey, type ApiKeyRecord } from './api-keys.js';
import { onApiKeyRevokedLocally } from './api-key-revocations.js';

export interface ApiKeyCacheOptions {
  /** The Postgres lookup by SHA-256; null for unknown or revoked keys. */
  lookup: (hash: string) => Promise<ApiKeyRecord | null>;
  /** How long a verified key is trusted without asking again; 0 turns positive caching off. */
  ttlMs: number;
  /** How long a refused key stays refused without asking again; 0 turns negative caching off. */
  negativeTtlMs: number;
  /** Per kind (verified, refused); the oldest entry is evicted first. */
  maxEntries: number;
  /** Lookups in flight at once: a flood of distinct bad keys queues here, not in Postgres. */
  maxConcurrentLookups?: number;
  now?: () => number;
}

interface Verified {
  record: ApiKeyRecord;
  expiresAt: number;
}

/**
 * Verified API keys kept in memory so that an authenticated request costs no Postgres round
 * trip. Keyed by the key's SHA-256, never the key itself.
 *
 * Revocation: `revoke(id)` drops the key at once (revokeApiKey in this process reaches every
 * cache directly; other processes' revocations arrive through ApiKeyRevocationSubscriber).
 * Every entry also expires after `ttlMs`: the upper bound on how long a revoked key lives on
 * when a Redis message is lost.
 * Bad keys are remembered briefly too, in a bounded map, so repeating one costs nothing and
 * inventing new ones costs at most `maxConcurrentLookups` queries at a time.
 */
export class ApiKeyCache {
  private readonly verified = new Map<string, Verified>();
  private readonly refused = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<ApiKeyRecord | null>>();
  private readonly lookups: Semaphore;
  private readonly now: () => number;
  /** Bumped by every invalidation: a lookup that started before one must not cache its answer. */
  private generation = 0;
  private readonly stopListening: () => void;

  constructor(private readonly options: ApiKeyCacheOptions) {
    this.lookups = new Semaphore(options.maxConcurrentLookups ?? 4);
    this.now = options.now ?? Date.now;
    // A revoke made anywhere in this process applies here before revokeApiKey returns.
    this.stopListening = onApiKeyRevokedLocally((keyId) => (keyId === null ? this.clear() : this.revoke(keyId)));
  }

  get size(): { verified: number; refused: number } {
    return { verified: this.verified.size, refused: this.refused.size };
  }

  async verify(key: string): Promise<ApiKeyRecord | null> {
    if (!isWellFormedApiKey(key)) return null;
    const hash = hashApiKey(key);
    const now = this.now();
    const hit = this.verified.get(hash);
    if (hit) {
      if (hit.expiresAt > now) return hit.record;
      this.verified.delete(hash);
    }
    const refusedUntil = this.refused.get(hash);
    if (refusedUntil !== undefined) {
      if (refusedUntil > now) return null;
      this.refused.delete(hash);
    }
    // Concurrent first requests with one key share a single lookup.
    let pending = this.inFlight.get(hash);
    if (!pending) {
      pending = this.load(hash);
      this.inFlight.set(hash, pending);
    }
    return pending;
  }

  /** Drops one key (by its id) at once. */
  revoke(keyId: string): void {
    this.generation++;
    this.inFlight.clear();
    for (const [hash, entry] of this.verified) if (entry.record.id === keyId) this.verified.delete(hash);
  }

  /** Forgets every verified key: revocations may have been missed. */
  clear(): void {
    this.generation++;
    this.inFlight.clear();
    this.verified.clear();
  }

  /** Stops hearing this process's revocations (the cache is garbage once its server closes). */
  close(): void {
    this.stopListening();
    this.clear();
  }

  private async load(hash: string): Promise<ApiKeyRecord | null> {
    const generation = this.generation;
    const release = await this.lookups.acquire();
    try {
      const record = await this.options.lookup(hash);
      if (generation === this.generation) this.remember(hash, record);
      return record;
    } finally {
      release();
      if (generation === this.generation) this.inFlight.delete(hash);
    }
  }

  private remember(hash: string, record: ApiKeyRecord | null): void {
    const now = this.now();
    if (record) {
      if (this.options.ttlMs > 0) bounded(this.verified, hash, { record, expiresAt: now + this.options.ttlMs }, this.options.maxEntries);
    } else if (this.options.negativeTtlMs > 0) {
      bounded(this.refused, hash, now + this.options.negativeTtlMs, this.options.maxEntries);
    }
  }
}

/** Insertion order is age order: re-inserting moves a key to the young end. */
function bounded<V>(map: Map<string, V>, key: string, value: V, maxEntries: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > maxEntries) map.delete(map.keys().next().value!);
}

export interface ApiKeyCacheSettings {
  API_KEY_CACHE_TTL_MS: number;
  API_KEY_NEGATIVE_CACHE_TTL_MS: number;
  API_KEY_CACHE_MAX_ENTRIES: number;
}

/** The cache the API authenticates with: Postgres behind it. */
export function createApiKeyCache(pool: Pool, settings: ApiKeyCacheSettings): ApiKeyCache {
  return new ApiKeyCache({
    lookup: async (hash) => {
      const record = await findApiKeyByHash(pool, hash);
      // Once per load (at most once per TTL per key); the UPDATE itself writes once a minute at most.
      if (record) touchApiKey(pool, record.id);
      return record;
    },
    ttlMs: settings.API_KEY_CACHE_TTL_MS,
    negativeTtlMs: settings.API_KEY_NEGATIVE_CACHE_TTL_MS,
    maxEntries: settings.API_KEY_CACHE_MAX_ENTRIES,
  });
}
