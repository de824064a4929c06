import type { Pool, PoolClient } from './pool.js';
import { prepared } from './prepared.js';
import type { PrismaTx } from './prisma.js';

/**
 * The one shape Herald's SQL needs, so the same statement runs on the pg pool (hot path)
 * and inside a caller's Prisma interactive transaction (transactional outbox).
 */
export interface SqlExecutor {
  /** `name` makes it a prepared statement where the driver supports one (pg); Prisma ignores it. */
  query<R = Record<string, unknown>>(sql: string, params: unknown[], name?: string): Promise<R[]>;
}

export function pgExecutor(db: Pool | PoolClient): SqlExecutor {
  return {
    async query<R>(sql: string, params: unknown[], name?: string) {
      const result = await db.query(name ? prepared(name, sql, params) : { text: sql, values: params });
      return result.rows as R[];
    },
  };
}

export function prismaExecutor(tx: PrismaTx): SqlExecutor {
  return {
    query<R>(sql: string, params: unknown[]) {
      return tx.$queryRawUnsafe<R[]>(sql, ...params);
    },
  };
}
