import { z } from 'zod';
import type { Pool } from '../db/pool.js';
import { isValidTimeZone } from './templates/formatting.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be "HH:MM" (24-hour)');

export const timeZoneSchema = z.string().min(1).refine(isValidTimeZone, 'must be an IANA time zone, e.g. "Africa/Blantyre"');

export const preferencesSchema = z.strictObject({
  channels: z
    .strictObject({ push: z.boolean().optional(), email: z.boolean().optional(), sms: z.boolean().optional() })
    .default({})
    .describe('false opts the user out of a channel (critical notifications included)'),
  quietHours: z
    .strictObject({ start: hhmm, end: hhmm, timeZone: timeZoneSchema })
    .refine((q) => q.start !== q.end, { message: 'start and end must differ', path: ['end'] })
    .nullable()
    .default(null)
    .describe('Non-critical notifications are deferred to the end of quiet hours'),
  frequencyCaps: z
    .strictObject({
      push: z.number().int().positive().max(1000).optional(),
      email: z.number().int().positive().max(1000).optional(),
      sms: z.number().int().positive().max(1000).optional(),
    })
    .default({})
    .describe('Maximum non-critical sends per channel per rolling hour'),
});

export type PreferencesInput = z.infer<typeof preferencesSchema>;

export interface Preferences {
  userId: string;
  channels: { push: boolean; email: boolean; sms: boolean };
  quietHours: { start: string; end: string; timeZone: string } | null;
  frequencyCaps: Partial<Record<'push' | 'email' | 'sms', number>>;
  updatedAt: string | null;
}

export async function getPreferences(pool: Pool, userId: string): Promise<Preferences | null> {
  const { rows } = await pool.query(
    `SELECT c.user_id, p.user_id AS has_prefs, p.push_enabled, p.email_enabled, p.sms_enabled,
            p.quiet_hours_start, p.quiet_hours_end, p.time_zone, p.frequency_caps, p.updated_at
       FROM customers c LEFT JOIN notification_preferences p ON p.user_id = c.user_id WHERE c.user_id = $1`,
    [userId],
  );
  const r = rows[0];
  if (!r) return null;
  if (!r.has_prefs) return { userId, channels: { push: true, email: true, sms: true }, quietHours: null, frequencyCaps: {}, updatedAt: null };
  return {
    userId,
    channels: { push: r.push_enabled, email: r.email_enabled, sms: r.sms_enabled },
    quietHours: r.quiet_hours_start && r.quiet_hours_end ? { start: r.quiet_hours_start, end: r.quiet_hours_end, timeZone: r.time_zone } : null,
    frequencyCaps: r.frequency_caps ?? {},
    updatedAt: r.updated_at instanceof Date ? r.updated_at.toISOString() : null,
  };
}

/** Replaces the user's preferences (a PUT): channels not mentioned are enabled. Creates the customer if new. */
export async function putPreferences(pool: Pool, userId: string, input: PreferencesInput): Promise<Preferences> {
  await pool.query(`INSERT INTO customers (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, [userId]);
  await pool.query(
    `INSERT INTO notification_preferences (user_id, push_enabled, email_enabled, sms_enabled, quiet_hours_start, quiet_hours_end, time_zone, frequency_caps, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, now())
     ON CONFLICT (user_id) DO UPDATE SET push_enabled = excluded.push_enabled, email_enabled = excluded.email_enabled,
       sms_enabled = excluded.sms_enabled, quiet_hours_start = excluded.quiet_hours_start, quiet_hours_end = excluded.quiet_hours_end,
       time_zone = excluded.time_zone, frequency_caps = excluded.frequency_caps, updated_at = now()`,
    [
      userId,
      input.channels.push ?? true,
      input.channels.email ?? true,
      input.channels.sms ?? true,
      input.quietHours?.start ?? null,
      input.quietHours?.end ?? null,
      input.quietHours?.timeZone ?? 'UTC',
      JSON.stringify(input.frequencyCaps),
    ],
  );
  return (await getPreferences(pool, userId))!;
}

export const contactSchema = z
  .strictObject({
    email: z.email('must be an e-mail address').max(254).nullable().optional(),
    phone: z.string().regex(/^\+[1-9]\d{7,14}$/, 'must be an E.164 number, e.g. +265991234567').nullable().optional(),
  })
  .refine((c) => c.email !== undefined || c.phone !== undefined, { message: 'give email, phone or both (null clears one)' });

export type ContactInput = z.infer<typeof contactSchema>;

/** Sets (or with null, clears) the user's e-mail and phone; fields left out are unchanged. */
export async function putContact(pool: Pool, userId: string, input: ContactInput): Promise<{ userId: string; email: string | null; phone: string | null }> {
  const { rows } = await pool.query(
    `INSERT INTO customers (user_id, email, phone) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET
       email = CASE WHEN $4 THEN excluded.email ELSE customers.email END,
       phone = CASE WHEN $5 THEN excluded.phone ELSE customers.phone END,
       updated_at = now()
     RETURNING user_id, email, phone`,
    [userId, input.email ?? null, input.phone ?? null, input.email !== undefined, input.phone !== undefined],
  );
  return { userId: rows[0].user_id, email: rows[0].email, phone: rows[0].phone };
}

/** Deactivates one of the user's device tokens; false when the user has no such active token. */
export async function removeDevice(pool: Pool, userId: string, token: string): Promise<boolean> {
  const result = await pool.query(
    `UPDATE devices SET active = false, deactivated_at = now(), deactivation_reason = 'removed_by_api'
      WHERE user_id = $1 AND token = $2 AND active`,
    [userId, token],
  );
  return (result.rowCount ?? 0) > 0;
}
