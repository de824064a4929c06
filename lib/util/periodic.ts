import type { Logger } from '../logger.js';

export interface Periodic {
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, never overlapping itself. When a run reports more work
 * (returns true), the next run starts at once instead of waiting out the interval.
 */
export function runPeriodically(name: string, intervalMs: number, task: () => Promise<boolean | void>, logger: Logger): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  const tick = () => {
    timer = null;
    if (stopped) return;
    running = task()
      .then((more) => schedule(more === true ? 0 : intervalMs))
      .catch((error) => {
        logger.warn({ err: error, task: name }, 'periodic task failed; will try again');
        schedule(intervalMs);
      })
      .finally(() => {
        running = null;
      });
  };
  const schedule = (delay: number) => {
    if (!stopped) timer = setTimeout(tick, delay);
  };
  schedule(intervalMs);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
