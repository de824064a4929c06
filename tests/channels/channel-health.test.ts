import { describe, expect, it } from 'vitest';
import { createChannelHealth, type ChannelPause } from '../../lib/channels/channel-health.js';
import { ChannelConfigurationError, PermanentDeliveryError, TransientDeliveryError } from '../../lib/channels/delivery-errors.js';

function setup(pauseMs?: number | null) {
  let now = 1_000_000;
  const pauses: ChannelPause[] = [];
  const resumes: string[] = [];
  const health = createChannelHealth({
    pauseMs,
    now: () => now,
    onPause: (pause) => pauses.push(pause),
    onResume: (channel, reason) => resumes.push(`${channel}:${reason}`),
  });
  return { health, pauses, resumes, advance: (ms: number) => void (now += ms), now: () => now };
}

const badKey = new ChannelConfigurationError('sms_auth_rejected', 'SMS gateway answered HTTP 401');

describe('channel health', () => {
  it('pauses a channel on a configuration error and alerts once', () => {
    const { health, pauses, now } = setup(60_000);

    expect(health.report('sms', badKey)).toBe(true);
    expect(health.report('sms', badKey)).toBe(true); // an in-flight send failing the same way

    expect(health.isPaused('sms')).toBe(true);
    expect(health.isPaused('email')).toBe(false);
    expect(pauses).toEqual([{ channel: 'sms', code: 'sms_auth_rejected', message: 'SMS gateway answered HTTP 401', since: now(), until: now() + 60_000, occurrences: 1 }]);
    expect(health.pauseOf('sms')?.occurrences).toBe(2);
  });

  it('ignores transient and permanent failures', () => {
    const { health, pauses } = setup();
    expect(health.report('push', new TransientDeliveryError('fcm_unavailable', 'busy'))).toBe(false);
    expect(health.report('push', new PermanentDeliveryError('fcm_tokens_unregistered', 'gone'))).toBe(false);
    expect(health.report('push', new Error('boom'))).toBe(false);
    expect(health.isPaused('push')).toBe(false);
    expect(pauses).toEqual([]);
  });

  it('lets a timed pause expire, and alerts again if the next send still fails', () => {
    const { health, pauses, resumes, advance } = setup(60_000);
    health.report('email', badKey);

    advance(59_999);
    expect(health.isPaused('email')).toBe(true);
    advance(1);
    expect(health.isPaused('email')).toBe(false);
    expect(resumes).toEqual(['email:expired']);

    health.report('email', badKey);
    expect(pauses).toHaveLength(2);
  });

  it('keeps an indefinite pause until an operator resumes the channel', () => {
    const { health, resumes, advance } = setup(null);
    health.report('push', badKey);

    advance(7 * 24 * 3_600_000);
    expect(health.pauseOf('push')?.until).toBeNull();
    expect(health.isPaused('push')).toBe(true);

    expect(health.resume('push')).toBe(true);
    expect(health.isPaused('push')).toBe(false);
    expect(health.resume('push')).toBe(false);
    expect(resumes).toEqual(['push:resumed']);
  });

  it('lists paused channels and accepts a manual pause with its own length', () => {
    const { health, advance } = setup(60_000);
    health.pause('sms', { code: 'maintenance', message: 'ESB maintenance window' }, 5_000);
    health.report('email', badKey);

    expect(health.paused().map((p) => p.channel).sort()).toEqual(['email', 'sms']);
    advance(5_000);
    expect(health.paused().map((p) => p.channel)).toEqual(['email']);
  });

  it('hands out copies, so callers cannot change the registry', () => {
    const { health } = setup();
    health.report('sms', badKey);
    const pause = health.pauseOf('sms')!;
    pause.until = 0;
    expect(health.isPaused('sms')).toBe(true);
  });
});
