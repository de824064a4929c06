import type { Pool, PoolClient } from '../db/pool.js';
import type { Logger } from '../logger.js';

/** Namespace of Herald's advisory locks (first key of the two-key form). */
export const leaseLockNamespace = 4242;

/**
 * SQL: the lease-lock keys held right now, one row each. Compare with `leaseKeySql(expr)`.
 * Read once per statement (as a hashed subplan), not once per row: pg_locks is costly to build.
 */
export const heldLeaseKeysSql = `SELECT l.objid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
  AND l.classid = ${leaseLockNamespace} AND l.objsubid = 2`;

/** SQL: the lease-lock key of the instance named by `expr`. */
export function leaseKeySql(expr: string): string {
  return `(hashtext(${expr}) & 2147483647)::oid`;
}

/**
 * Proof that a notifier instance is alive, so that nobody re-sends the deliveries it holds
 * in SENDING. Two signals: a session advisory lock on a dedicated connection (released by
 * Postgres the moment the process dies, immune to a busy event loop) and a heartbeat row
 * (bridges a Postgres restart, when every lock vanishes at once). Only when both are gone
 * for longer than the stale period are its deliveries presumed orphaned.
 */
export class InstanceLease {
  private client: PoolClient | null = null;

  constructor(private readonly pool: Pool, private readonly instanceId: string, private readonly logger: Logger) {}

  async renew(): Promise<void> {
    await this.pool.query(
      `INSERT INTO notifier_instances (instance_id) VALUES ($1) ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now()`,
      [this.instanceId],
    );
    if (this.client) return;
    const client = await this.pool.connect();
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'lease connection lost; re-acquiring on the next heartbeat');
      if (this.client === client) this.client = null;
      client.release(true);
    });
    const { rows } = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_lock(${leaseLockNamespace}, hashtext($1) & 2147483647) AS ok`,
      [this.instanceId],
    );
    if (!rows[0]?.ok) {
      client.release();
      throw new Error(`instance id ${this.instanceId} is already held by a live process; instance ids must be unique`);
    }
    this.client = client;
  }

  async release(): Promise<void> {
    await this.pool.query('DELETE FROM notifier_instances WHERE instance_id = $1', [this.instanceId]).catch(() => {});
    const client = this.client;
    this.client = null;
    // Closing the session drops the advisory lock with it.
    client?.release(true);
  }
}
