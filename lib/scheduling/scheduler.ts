import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis.js';
import { runLocked } from './locked-task.js';

export interface ScheduledJob {
  name: string;
  /** node-cron expression; six fields allow seconds. */
  schedule: string;
  /** Upper bound of one run; the lock expires after it. */
  lockTtlMs: number;
  run: () => Promise<void>;
}

/** Cron ticks shared by every scheduler instance: one Redis lock per job decides who runs. */
export class Scheduler {
  private tasks: ScheduledTask[] = [];
  private running = new Set<Promise<unknown>>();

  constructor(private readonly redis: Redis, private readonly logger: Logger) {}

  start(jobs: ScheduledJob[]): void {
    for (const job of jobs) {
      if (!cron.validate(job.schedule)) throw new Error(`job ${job.name}: invalid cron expression "${job.schedule}"`);
      const task = cron.schedule(job.schedule, () => {
        const run = runLocked(this.redis, job.name, job.lockTtlMs, job.run)
          .catch((error) => this.logger.warn({ err: error, job: job.name }, 'scheduled job failed'))
          .finally(() => this.running.delete(run));
        this.running.add(run);
      }, { noOverlap: true, name: job.name });
      this.tasks.push(task);
    }
  }

  async stop(): Promise<void> {
    for (const task of this.tasks) await task.stop();
    await Promise.all(this.running);
  }
}
