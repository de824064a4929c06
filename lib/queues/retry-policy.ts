import type { ChannelName } from '../channels/channel.js';

export interface ChannelRetrySchedule {
  /** Total attempts including the first send. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type RetrySchedules = Record<ChannelName, ChannelRetrySchedule>;

/**
 * Defaults (README, "Retries"): a transaction SMS or push that arrives hours late confuses more
 * than it informs, so those give up within about an hour (worst case); email stays useful for
 * a day, close to Svix's ~27 h rather than SNS's 6 h. Sums of the jitter ceilings:
 * push ≈ 36 min, sms ≈ 61 min, email ≈ 24 h (full jitter halves the expected wait).
 */
export const defaultRetrySchedules: RetrySchedules = {
  push: { maxAttempts: 10, baseDelayMs: 5_000, maxDelayMs: 15 * 60_000 },
  sms: { maxAttempts: 10, baseDelayMs: 10_000, maxDelayMs: 20 * 60_000 },
  email: { maxAttempts: 15, baseDelayMs: 30_000, maxDelayMs: 4 * 60 * 60_000 },
};

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a uniformly random delay in [0, min(cap, base·2^(attempt-1))], so a provider
 * outage does not end in a synchronized stampede. A provider's Retry-After is a floor.
 */
export function retryDelayMs(schedule: ChannelRetrySchedule, attempt: number, retryAfterMs?: number, random = Math.random): number {
  const ceiling = Math.min(schedule.maxDelayMs, schedule.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}
