import type { ChannelName } from '../channels/channel.js';

export interface ChannelRetrySchedule {
  /** Total attempts including the first send. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type RetrySchedules = Record<ChannelName, ChannelRetrySchedule>;

/**
 * Defaults (README, "Retries"): SMS and push go stale fast, so they give up within about an
 * hour; email stays useful for a day, closer to Svix's ~27 h than to SNS's 6 h.
 */
export const defaultRetrySchedules: RetrySchedules = {
  push: { maxAttempts: 8, baseDelayMs: 2_000, maxDelayMs: 15 * 60_000 },
  sms: { maxAttempts: 8, baseDelayMs: 5_000, maxDelayMs: 15 * 60_000 },
  email: { maxAttempts: 12, baseDelayMs: 10_000, maxDelayMs: 4 * 60 * 60_000 },
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
