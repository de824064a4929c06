import { setMaxListeners } from 'node:events';

/** An abort signal that fires after `ms`, and a clear() to call as soon as the work settles. */
export interface Deadline {
  readonly signal: AbortSignal;
  clear(): void;
}

/**
 * Why not AbortSignal.timeout: its timer, and through it the signal, stays alive for the whole
 * timeout after the work is done. For a send every few hundred microseconds with a 15-second
 * timeout that is tens of thousands of live timers, promoted to the old generation and collected
 * by major GCs whose pauses showed in the delivery latency (heap 250 MB → 90 MB in the bench).
 */
export function deadline(ms: number): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timeoutError(ms)), ms);
  // Like AbortSignal.timeout, a pending deadline does not keep the process alive.
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

interface DeadlineWindow {
  controller: AbortController;
  timer: NodeJS.Timeout;
  openedAt: number;
  users: number;
}

/**
 * Deadlines of one length for work started at a high rate (a send every few hundred
 * microseconds at full rate): everything started within one window of `windowMs` shares a
 * signal and a timer, which fires between `ms` and `ms + windowMs` after each start. A
 * controller and a timer per send took 1.5 % of the notifier's main-thread samples at full rate,
 * 0.2 % shared (`node --cpu-prof` of the bench).
 * A window's timer is cleared once its last user is done and a newer window has opened, so
 * live timers follow the work in flight, as with deadline().
 */
export class SharedDeadlines {
  private open: DeadlineWindow | null = null;

  constructor(
    private readonly ms: number,
    private readonly windowMs = 10,
  ) {}

  start(): Deadline {
    const now = performance.now();
    let window = this.open;
    if (!window || now - window.openedAt >= this.windowMs) {
      if (window && window.users === 0) clearTimeout(window.timer);
      window = this.open = this.openWindow(now);
    }
    window.users++;
    const shared = window;
    let done = false;
    return {
      signal: shared.controller.signal,
      clear: () => {
        if (done) return;
        done = true;
        if (--shared.users === 0 && shared !== this.open) clearTimeout(shared.timer);
      },
    };
  }

  private openWindow(now: number): DeadlineWindow {
    const controller = new AbortController();
    // Every send in the window listens on this one signal.
    setMaxListeners(0, controller.signal);
    const timer = setTimeout(() => controller.abort(timeoutError(this.ms)), this.ms + this.windowMs);
    timer.unref();
    return { controller, timer, openedAt: now, users: 0 };
  }
}

/** The reason a deadline aborts with, as AbortSignal.timeout gives. */
function timeoutError(ms: number): DOMException {
  return new DOMException(`timed out after ${ms} ms`, 'TimeoutError');
}
