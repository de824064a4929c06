import type { ChannelName } from './channel.js';
import { ChannelConfigurationError } from './delivery-errors.js';

export interface ChannelPause {
  channel: ChannelName;
  code: string;
  message: string;
  since: number;
  /** Epoch ms when sending may be tried again; null keeps the channel paused until `resume`. */
  until: number | null;
  /** Configuration errors seen for this pause, the first included (in-flight sends fail too). */
  occurrences: number;
}

export interface ChannelHealthOptions {
  /** How long a configuration error pauses its channel; null = until an operator resumes it. */
  pauseMs?: number | null;
  now?: () => number;
  /** Called once per pause, when the channel goes from sending to paused: raise the alert here. */
  onPause?: (pause: ChannelPause) => void;
  onResume?: (channel: ChannelName, reason: 'expired' | 'resumed') => void;
}

export interface ChannelHealth {
  /** Feed every classified send failure here; true when it is a configuration error (channel now paused). */
  report(channel: ChannelName, error: unknown): boolean;
  pause(channel: ChannelName, cause: { code: string; message: string }, pauseMs?: number | null): ChannelPause;
  /** Operator action: send again at once. False when the channel was not paused. */
  resume(channel: ChannelName): boolean;
  isPaused(channel: ChannelName): boolean;
  pauseOf(channel: ChannelName): ChannelPause | undefined;
  paused(): ChannelPause[];
}

export const DEFAULT_PAUSE_MS = 10 * 60_000;

/**
 * Bad credentials fail every message the same way, so instead of letting each delivery burn its
 * retries the channel pauses: its deliveries wait (the dispatcher defers them to `until`) and the
 * operator is told once. When a timed pause ends the next send is the probe; if the set-up is
 * still wrong it pauses again and alerts again. No timers: time is read from `now`.
 */
export function createChannelHealth(options: ChannelHealthOptions = {}): ChannelHealth {
  const now = options.now ?? Date.now;
  const defaultPauseMs = options.pauseMs === undefined ? DEFAULT_PAUSE_MS : options.pauseMs;
  const pauses = new Map<ChannelName, ChannelPause>();

  const current = (channel: ChannelName): ChannelPause | undefined => {
    const pause = pauses.get(channel);
    if (pause && pause.until !== null && pause.until <= now()) {
      pauses.delete(channel);
      options.onResume?.(channel, 'expired');
      return undefined;
    }
    return pause;
  };

  const pause: ChannelHealth['pause'] = (channel, cause, pauseMs = defaultPauseMs) => {
    const existing = current(channel);
    if (existing) {
      existing.occurrences += 1;
      return { ...existing };
    }
    const since = now();
    const created: ChannelPause = {
      channel,
      code: cause.code,
      message: cause.message,
      since,
      until: pauseMs === null ? null : since + pauseMs,
      occurrences: 1,
    };
    pauses.set(channel, created);
    options.onPause?.({ ...created });
    return { ...created };
  };

  return {
    report(channel, error) {
      const isConfiguration = error instanceof ChannelConfigurationError || (error as { kind?: unknown } | null)?.kind === 'configuration';
      if (!isConfiguration) return false;
      const { code, message } = error as { code: string; message: string };
      pause(channel, { code, message });
      return true;
    },
    pause,
    resume(channel) {
      const was = current(channel);
      if (!was) return false;
      pauses.delete(channel);
      options.onResume?.(channel, 'resumed');
      return true;
    },
    isPaused: (channel) => current(channel) !== undefined,
    pauseOf: (channel) => {
      const pause = current(channel);
      return pause && { ...pause };
    },
    paused: () => [...pauses.keys()].flatMap((channel) => {
      const pause = current(channel);
      return pause ? [{ ...pause }] : [];
    }),
  };
}
