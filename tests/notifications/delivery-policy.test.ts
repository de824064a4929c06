import { describe, expect, it } from 'vitest';
import { decideDelivery, quietHoursEnd, type RecipientProfile } from '../../lib/notifications/delivery-policy.js';

const none = { count: 0, oldest: null };
function profile(prefs: Partial<NonNullable<RecipientProfile['preferences']>> | null = {}, overrides: Partial<RecipientProfile> = {}): RecipientProfile {
  return {
    userId: 'u', email: 'u@example.test', phone: '+265991234567', locale: 'en', timeZone: 'Africa/Blantyre', activeDevices: 1,
    preferences: prefs === null ? null : {
      pushEnabled: true, emailEnabled: true, smsEnabled: true, quietHoursStart: null, quietHoursEnd: null,
      timeZone: 'Africa/Blantyre', frequencyCaps: {}, ...prefs,
    },
    ...overrides,
  };
}
// 21:30 UTC is 23:30 in Blantyre (UTC+2).
const lateEvening = new Date('2026-11-23T21:30:00Z');

describe('decideDelivery', () => {
  it('sends when nothing stands in the way', () => {
    expect(decideDelivery('sms', 'normal', profile(), none, lateEvening)).toEqual({ status: 'PENDING' });
  });

  it('skips an unknown recipient and missing contacts, naming the reason', () => {
    expect(decideDelivery('email', 'critical', undefined, none, lateEvening)).toEqual({ status: 'SKIPPED', reason: 'unknown_recipient' });
    expect(decideDelivery('email', 'normal', profile({}, { email: null }), none, lateEvening)).toMatchObject({ reason: 'no_email' });
    expect(decideDelivery('sms', 'normal', profile({}, { phone: null }), none, lateEvening)).toMatchObject({ reason: 'no_phone' });
    expect(decideDelivery('push', 'normal', profile({}, { activeDevices: 0 }), none, lateEvening)).toMatchObject({ reason: 'no_device' });
  });

  it('honours a per-channel opt-out even for critical notifications', () => {
    expect(decideDelivery('sms', 'critical', profile({ smsEnabled: false }), none, lateEvening)).toEqual({ status: 'SKIPPED', reason: 'opted_out' });
    expect(decideDelivery('push', 'normal', profile({ smsEnabled: false }), none, lateEvening)).toEqual({ status: 'PENDING' });
  });

  it('defers (never drops) a non-critical notification to the end of quiet hours in the user time zone', () => {
    const decision = decideDelivery('push', 'normal', profile({ quietHoursStart: '22:00', quietHoursEnd: '07:00' }), none, lateEvening);
    // 07:00 in Blantyre is 05:00 UTC the next morning.
    expect(decision).toEqual({ status: 'DEFERRED', reason: 'quiet_hours', until: new Date('2026-11-24T05:00:00Z') });
  });

  it('lets critical notifications through quiet hours and caps', () => {
    const prefs = profile({ quietHoursStart: '22:00', quietHoursEnd: '07:00', frequencyCaps: { sms: 1 } });
    expect(decideDelivery('sms', 'critical', prefs, { count: 5, oldest: lateEvening }, lateEvening)).toEqual({ status: 'PENDING' });
  });

  it('defers past a frequency cap until the oldest send in the hour ages out', () => {
    const oldest = new Date(lateEvening.getTime() - 20 * 60_000);
    const decision = decideDelivery('sms', 'normal', profile({ frequencyCaps: { sms: 3 } }), { count: 3, oldest }, lateEvening);
    expect(decision).toEqual({ status: 'DEFERRED', reason: 'frequency_cap', until: new Date(oldest.getTime() + 3_600_000) });
    expect(decideDelivery('sms', 'normal', profile({ frequencyCaps: { sms: 3 } }), { count: 2, oldest }, lateEvening)).toEqual({ status: 'PENDING' });
  });
});

describe('quietHoursEnd', () => {
  it('handles windows that do not wrap midnight', () => {
    const noon = new Date('2026-11-23T10:00:00Z'); // 12:00 in Blantyre
    expect(quietHoursEnd('11:00', '14:00', 'Africa/Blantyre', noon)).toEqual(new Date('2026-11-23T12:00:00Z'));
    expect(quietHoursEnd('13:00', '14:00', 'Africa/Blantyre', noon)).toBeNull();
  });

  it('ignores malformed or empty windows', () => {
    expect(quietHoursEnd('25:00', '07:00', 'UTC', lateEvening)).toBeNull();
    expect(quietHoursEnd('07:00', '07:00', 'UTC', lateEvening)).toBeNull();
    expect(quietHoursEnd(null, '07:00', 'UTC', lateEvening)).toBeNull();
  });
});
