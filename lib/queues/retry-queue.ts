import { Queue, type ConnectionOptions } from 'bullmq';
import type { RetryScheduler } from '../notifications/delivery-dispatcher.js';

export const retryQueueName = 'herald-delivery-retries';

export interface RetryJobData {
  deliveryId: string;
  /** The attempt that failed; the job performs attempt + 1. */
  attempt: number;
}

/** BullMQ reuses a jobId only once, so two instances scheduling the same retry enqueue one job. */
export function retryJobId(deliveryId: string, attempt: number): string {
  return `${deliveryId}-${attempt}`;
}

/**
 * Schedules a delivery's next attempt as a delayed BullMQ job. Postgres keeps the durable
 * record (status RETRYING, next_attempt_at); a lost job is found by the due-delivery poller.
 */
export class RetryQueue implements RetryScheduler {
  readonly queue: Queue<RetryJobData>;

  constructor(connection: ConnectionOptions) {
    this.queue = new Queue<RetryJobData>(retryQueueName, {
      connection,
      defaultJobOptions: {
        // Infrastructure failures of the job itself (Postgres away while claiming) are
        // retried by BullMQ with the worker's backoff strategy; sends are counted in Postgres.
        attempts: 5,
        backoff: { type: 'herald-full-jitter' },
        removeOnComplete: { count: 1_000 },
        removeOnFail: { count: 5_000 },
      },
    });
  }

  async schedule(deliveryId: string, attempt: number, at: Date): Promise<void> {
    await this.queue.add('retry', { deliveryId, attempt }, { jobId: retryJobId(deliveryId, attempt), delay: Math.max(0, at.getTime() - Date.now()) });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
