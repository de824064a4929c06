import type { Pool, PoolClient } from './pool.js';
import type { PrismaTx } from './prisma.js';

/**
 * The one shape Herald's SQL needs, so the same statement runs on the pg pool (hot path)
 * and inside a caller's Prisma interactive transaction (transactional outbox).
 */
export interface SqlExecutor {
  query<R = Record<string, unknown>>(sql: string, params: unknown[]): Promise<R[]>;
}

export function pgExecutor(db: Pool | PoolClient): SqlExecutor {
  return {
    async query<R>(sql: string, params: unknown[]) {
      const result = await db.query(sql, params);
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
