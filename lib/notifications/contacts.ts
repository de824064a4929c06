import type { Pool } from '../db/pool.js';

/** Registers (or re-activates) a device token for push; a token moves with its latest owner. */
export async function registerDevice(pool: Pool, userId: string, token: string, platform: 'android' | 'ios' | 'web'): Promise<void> {
  await pool.query(`INSERT INTO customers (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, [userId]);
  await pool.query(
    `INSERT INTO devices (user_id, token, platform) VALUES ($1, $2, $3)
     ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
       active = true, deactivated_at = NULL, deactivation_reason = NULL`,
    [userId, token, platform],
  );
}
