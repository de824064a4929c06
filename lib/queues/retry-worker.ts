import { Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../logger.js';
import { retryQueueName, type RetryJobData } from './retry-queue.js';

export interface RetryWorkerOptions {
  connection: ConnectionOptions;
  logger: Logger;
  concurrency: number;
  /** Claims RETRYING deliveries and sends them; returns how many it claimed. */
  retry: (deliveryIds: string[]) => Promise<number>;
}

/** Full jitter on the job's own infrastructure retries: uniform in [0, min(30 s, 500 ms·2^n)]. */
export function jobBackoff(attemptsMade: number): number {
  return Math.floor(Math.random() * Math.min(30_000, 500 * 2 ** attemptsMade));
}

/**
 * Runs due retries. The job only names the delivery: claiming it (RETRYING → SENDING) is the
 * lock, so a duplicate or stale job finds nothing to claim and completes without sending.
 */
export function createRetryWorker(options: RetryWorkerOptions): Worker<RetryJobData> {
  const worker = new Worker<RetryJobData>(
    retryQueueName,
    async (job) => {
      const claimed = await options.retry([job.data.deliveryId]);
      return { claimed };
    },
    {
      connection: options.connection,
      concurrency: options.concurrency,
      settings: { backoffStrategy: (attemptsMade) => jobBackoff(attemptsMade) },
    },
  );
  worker.on('failed', (job, error) =>
    options.logger.warn({ err: error, deliveryId: job?.data.deliveryId }, 'retry job failed; BullMQ will try it again'),
  );
  worker.on('error', (error) => options.logger.warn({ err: error }, 'retry worker error'));
  return worker;
}
