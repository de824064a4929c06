import { describe, expect, it } from 'vitest';
import { defaultRetrySchedules, retryDelayMs } from '../../lib/queues/retry-policy.js';

const schedule = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 10_000 };

describe('retryDelayMs (full jitter)', () => {
  it('draws uniformly below an exponentially growing ceiling', () => {
    expect(retryDelayMs(schedule, 1, undefined, () => 0.999)).toBe(999);
    expect(retryDelayMs(schedule, 3, undefined, () => 0.5)).toBe(2_000);
    expect(retryDelayMs(schedule, 3, undefined, () => 0)).toBe(0);
  });

  it('never exceeds the cap however many attempts came before', () => {
    expect(retryDelayMs(schedule, 30, undefined, () => 0.999)).toBe(9_990);
  });

  it("treats a provider's Retry-After as a floor", () => {
    expect(retryDelayMs(schedule, 1, 60_000, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(schedule, 5, 100, () => 0.5)).toBe(5_000);
  });

  it('keeps the documented worst-case windows: push and sms within about an hour, email within a day', () => {
    const worst = (s: typeof schedule) =>
      Array.from({ length: s.maxAttempts - 1 }, (_, i) => Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** i)).reduce((a, b) => a + b, 0);
    expect(worst(defaultRetrySchedules.push) / 60_000).toBeLessThan(40);
    expect(worst(defaultRetrySchedules.sms) / 60_000).toBeLessThan(65);
    expect(worst(defaultRetrySchedules.email) / 3_600_000).toBeLessThan(25);
    expect(worst(defaultRetrySchedules.email) / 3_600_000).toBeGreaterThan(20);
  });
});
