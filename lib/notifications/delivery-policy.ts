import type { ChannelName } from '../channels/channel.js';
import type { Priority } from './priority.js';
import { formatter, isValidTimeZone } from './templates/formatting.js';

export interface RecipientProfile {
  userId: string;
  email: string | null;
  phone: string | null;
  locale: string;
  timeZone: string;
  activeDevices: number;
  preferences: {
    pushEnabled: boolean;
    emailEnabled: boolean;
    smsEnabled: boolean;
    quietHoursStart: string | null;
    quietHoursEnd: string | null;
    timeZone: string;
    frequencyCaps: Partial<Record<ChannelName, number>>;
  } | null;
}

/** Sends to this user on this channel in the last hour: count and the oldest one's time. */
export interface RecentSends {
  count: number;
  oldest: Date | null;
}

export type DeliveryDecision =
  | { status: 'PENDING' }
  | { status: 'SKIPPED'; reason: 'unknown_recipient' | 'opted_out' | 'no_email' | 'no_phone' | 'no_device' }
  | { status: 'DEFERRED'; reason: 'quiet_hours' | 'frequency_cap'; until: Date };

const hour = 3_600_000;

/**
 * Decides at fan-out what a channel should do for one recipient. Critical notifications skip
 * quiet hours and caps (the customer must know now); opt-outs and missing contacts always hold.
 */
export function decideDelivery(
  channel: ChannelName,
  priority: Priority,
  profile: RecipientProfile | undefined,
  recent: RecentSends,
  now: Date,
): DeliveryDecision {
  if (!profile) return { status: 'SKIPPED', reason: 'unknown_recipient' };
  const prefs = profile.preferences;
  if (prefs && !prefs[`${channel}Enabled`]) return { status: 'SKIPPED', reason: 'opted_out' };
  if (channel === 'email' && !profile.email) return { status: 'SKIPPED', reason: 'no_email' };
  if (channel === 'sms' && !profile.phone) return { status: 'SKIPPED', reason: 'no_phone' };
  if (channel === 'push' && profile.activeDevices === 0) return { status: 'SKIPPED', reason: 'no_device' };
  if (priority === 'critical' || !prefs) return { status: 'PENDING' };

  const quietEnd = quietHoursEnd(prefs.quietHoursStart, prefs.quietHoursEnd, prefs.timeZone || profile.timeZone, now);
  if (quietEnd) return { status: 'DEFERRED', reason: 'quiet_hours', until: quietEnd };

  const cap = prefs.frequencyCaps[channel];
  if (cap !== undefined && recent.count >= cap) {
    return { status: 'DEFERRED', reason: 'frequency_cap', until: new Date((recent.oldest ?? now).getTime() + hour) };
  }
  return { status: 'PENDING' };
}

/** When `now` falls inside the quiet window (which may wrap midnight), the instant it ends. */
export function quietHoursEnd(start: string | null, end: string | null, timeZone: string, now: Date): Date | null {
  if (!start || !end) return null;
  const startMin = toMinutes(start);
  const endMin = toMinutes(end);
  if (startMin === null || endMin === null || startMin === endMin) return null;
  const local = localMinutes(now, isValidTimeZone(timeZone) ? timeZone : 'UTC');
  const inside = startMin < endMin ? local >= startMin && local < endMin : local >= startMin || local < endMin;
  if (!inside) return null;
  const minutesLeft = (endMin - local + 1_440) % 1_440;
  const until = new Date(now.getTime() + minutesLeft * 60_000);
  until.setUTCSeconds(0, 0);
  return until;
}

function toMinutes(hhmm: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

function localMinutes(now: Date, timeZone: string): number {
  const parts = formatter('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}
