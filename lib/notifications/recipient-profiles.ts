import type { PoolClient } from '../db/pool.js';
import type { ChannelName } from '../channels/channel.js';
import type { RecentSends, RecipientProfile } from './delivery-policy.js';
import { prepared } from '../db/prepared.js';

/** Owners of the given accounts, for events that name an account but not a user. */
export async function loadAccountOwners(client: PoolClient, accountNumbers: string[]): Promise<Map<string, string>> {
  if (accountNumbers.length === 0) return new Map();
  const { rows } = await client.query<{ account_number: string; owner_user_id: string }>(prepared('load-account-owners',
    'SELECT account_number, owner_user_id FROM accounts WHERE account_number = ANY($1::text[])',
    [accountNumbers],
  ));
  return new Map(rows.map((r) => [r.account_number, r.owner_user_id]));
}

/** A profile plus the active device tokens, so a delivery claimed at fan-out can be sent without another read. */
export interface LoadedProfile extends RecipientProfile {
  deviceTokens: string[];
}

export async function loadProfiles(client: PoolClient, userIds: string[]): Promise<Map<string, LoadedProfile>> {
  if (userIds.length === 0) return new Map();
  const { rows } = await client.query(prepared('load-profiles',
    `SELECT c.user_id, c.email, c.phone, c.locale, c.time_zone,
            coalesce((SELECT array_agg(d.token ORDER BY d.created_at) FROM devices d WHERE d.user_id = c.user_id AND d.active), '{}') AS device_tokens,
            p.user_id IS NOT NULL AS has_prefs, p.push_enabled, p.email_enabled, p.sms_enabled,
            p.quiet_hours_start, p.quiet_hours_end, p.time_zone AS pref_time_zone, p.frequency_caps
       FROM customers c LEFT JOIN notification_preferences p ON p.user_id = c.user_id
      WHERE c.user_id = ANY($1::text[])`,
    [userIds],
  ));
  return new Map(
    rows.map((r) => [
      r.user_id as string,
      {
        userId: r.user_id,
        email: r.email,
        phone: r.phone,
        locale: r.locale,
        timeZone: r.time_zone,
        activeDevices: r.device_tokens.length,
        deviceTokens: r.device_tokens,
        preferences: r.has_prefs
          ? {
              pushEnabled: r.push_enabled,
              emailEnabled: r.email_enabled,
              smsEnabled: r.sms_enabled,
              quietHoursStart: r.quiet_hours_start,
              quietHoursEnd: r.quiet_hours_end,
              timeZone: r.pref_time_zone,
              frequencyCaps: r.frequency_caps ?? {},
            }
          : null,
      } satisfies LoadedProfile,
    ]),
  );
}

/**
 * A user's non-critical sends per channel in the last hour. It reads the partial index of
 * exactly those deliveries (sent, not critical), whose predicate this query's conditions imply.
 */
export const recentSendsSql = `SELECT user_id, channel, count(*) AS count, min(sent_at) AS oldest
       FROM notification_deliveries
      WHERE user_id = ANY($1::text[]) AND sent_at > now() - interval '1 hour' AND priority <> 'critical'
      GROUP BY user_id, channel`;

/** Counts of non-critical sends in the last hour, only for users who set a cap. */
export async function loadRecentSends(
  client: PoolClient,
  userIds: string[],
): Promise<Map<`${string}:${ChannelName}`, RecentSends>> {
  if (userIds.length === 0) return new Map();
  const { rows } = await client.query<{ user_id: string; channel: ChannelName; count: number; oldest: Date }>(
    prepared('load-recent-sends', recentSendsSql, [userIds]),
  );
  return new Map(rows.map((r) => [`${r.user_id}:${r.channel}` as const, { count: r.count, oldest: r.oldest }]));
}
