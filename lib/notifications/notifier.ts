import type { ChannelSet } from '../channels/channel.js';
import type { Pool } from '../db/pool.js';
import type { EventBus } from '../events/event-bus.js';
import { EventProcessor, type DurableHandler } from '../events/event-processor.js';
import type { Logger } from '../logger.js';
import { createCustomerDirectoryHandler } from '../banking/customer-directory.js';
import { createDebitAlertHandler, type DebitAlertOptions } from '../banking/debit-alerts.js';
import type { ConnectionOptions, Worker } from 'bullmq';
import type { RetrySchedules } from '../queues/retry-policy.js';
import { RetryQueue } from '../queues/retry-queue.js';
import { createRetryWorker } from '../queues/retry-worker.js';
import { runPeriodically, type Periodic } from '../util/periodic.js';
import { InstanceLease } from './instance-lease.js';
import { DeliveryDispatcher, type DispatcherOptions, type RetryScheduler } from './delivery-dispatcher.js';
import { createFanOutHandler, type FanOutOptions } from './fan-out.js';
import { TemplateRenderer } from './templates/template-renderer.js';
import { lifecycleEventTypes } from './lifecycle-events.js';
import { eventTypes } from '../events/catalog/index.js';

/**
 * The types a notifier hints its processor about: all but the lifecycle events, which Herald
 * stores already processed, so a hint would only look for an outbox row that is not there (one
 * claim lookup and one parsed broadcast per notification, half the broadcasts at full rate).
 * One published from outside does get an outbox row, and no handler: the sweeper clears it.
 */
export const hintedEventTypes = eventTypes.filter((t) => !lifecycleEventTypes.includes(t));

export interface NotifierOptions {
  pool: Pool;
  bus: EventBus;
  channels: ChannelSet;
  logger: Logger;
  instanceId: string;
  retrySchedules: RetrySchedules;
  renderer?: TemplateRenderer;
  retryScheduler?: RetryScheduler;
  health?: DispatcherOptions['health'];
  alerts?: DispatcherOptions['alerts'];
  /** When given, retries run through BullMQ; otherwise the due-delivery poller alone runs them. */
  retryQueue?: { connection: ConnectionOptions; concurrency?: number };
  onOutcome?: DispatcherOptions['onOutcome'];
  timing: {
    sweeperGraceMs: number;
    sweeperIntervalMs: number;
    sweeperBatchSize: number;
    maxProcessAttempts: number;
    deliveryPollIntervalMs: number;
    deliveryStaleMs: number;
    sendTimeoutMs: number;
    concurrency: number;
    /** How long after its due time a RETRYING delivery is presumed to have lost its job. */
    retryingSlackMs?: number;
  };
}

export interface HandlerOptions {
  logger: Logger;
  renderer?: TemplateRenderer;
  /** Where new deliveries go after commit; without it they wait for a notifier's poller. */
  dispatch?: FanOutOptions['dispatch'];
  preclaim?: FanOutOptions['preclaim'];
  /**
   * Broadcasts events a handler stored (debit alerts, notifications completed at fan-out) once
   * committed. Without it, debit alerts wait for the sweeper and completions go unheard live.
   */
  broadcast?: DebitAlertOptions['broadcast'];
}

/** The durable handlers every process that processes events must run, in order. */
export function notificationHandlers(options: HandlerOptions): DurableHandler[] {
  const { logger, renderer = new TemplateRenderer(), dispatch = async () => {}, preclaim, broadcast } = options;
  return [createCustomerDirectoryHandler(), createFanOutHandler({ renderer, logger, dispatch, preclaim, broadcast }), createDebitAlertHandler({ broadcast })];
}

/**
 * A notifier instance: hears events on pub/sub, claims and fans them out, sends the new
 * deliveries, and runs the two durable loops (event sweeper, due-delivery poller) that make
 * a missed hint or a crashed peer cost latency rather than a notification.
 */
export class Notifier {
  readonly processor: EventProcessor;
  readonly dispatcher: DeliveryDispatcher;
  private loops: Periodic[] = [];
  private lease: Periodic | null = null;
  private readonly instanceLease: InstanceLease;
  private readonly retryQueue: RetryQueue | null;
  private retryWorker: Worker | null = null;
  private unsubscribe: (() => void) | null = null;

  /** The queue this notifier schedules retries on (null without one): for its depth gauge. */
  get retryJobs(): RetryQueue['queue'] | null {
    return this.retryQueue?.queue ?? null;
  }

  constructor(private readonly options: NotifierOptions) {
    const t = options.timing;
    this.instanceLease = new InstanceLease(options.pool, options.instanceId, options.logger);
    this.retryQueue = options.retryQueue ? new RetryQueue(options.retryQueue.connection) : null;
    this.dispatcher = new DeliveryDispatcher({
      pool: options.pool,
      channels: options.channels,
      bus: options.bus,
      logger: options.logger,
      instanceId: options.instanceId,
      retrySchedules: options.retrySchedules,
      sendTimeoutMs: t.sendTimeoutMs,
      concurrency: t.concurrency,
      retryScheduler: options.retryScheduler ?? this.retryQueue ?? undefined,
      health: options.health,
      alerts: options.alerts,
      onOutcome: options.onOutcome,
      poll: {
        limit: t.sweeperBatchSize,
        pendingGraceMs: t.sweeperGraceMs,
        staleSendingMs: t.deliveryStaleMs,
        // With BullMQ in charge of retries the poller only rescues jobs that were lost.
        retryingSlackMs: t.retryingSlackMs ?? (this.retryQueue ? 30_000 : 0),
      },
    });
    const handlers = notificationHandlers({
      logger: options.logger,
      renderer: options.renderer,
      dispatch: (work) => this.dispatcher.dispatch(work),
      preclaim: { instanceId: options.instanceId, channels: () => this.dispatcher.availableChannels() },
      broadcast: (events) => options.bus.broadcast(events),
    });
    this.processor = new EventProcessor({
      pool: options.pool,
      handlers,
      logger: options.logger,
      graceMs: t.sweeperGraceMs,
      batchSize: t.sweeperBatchSize,
      maxAttempts: t.maxProcessAttempts,
    });
  }

  async start(): Promise<void> {
    const { logger, timing } = this.options;
    // The lease comes first: nothing may be claimed by an instance others think is dead.
    await this.instanceLease.renew();
    // Every stored event owes the durable handlers a run, including types none of them handles
    // (service.* from balance sync and discovery): hinted, such an event is claimed and completed
    // at once instead of waiting out the sweeper's grace period. Lifecycle events are the
    // exception (see hintedEventTypes).
    this.unsubscribe = await this.options.bus.subscribe(hintedEventTypes, (event) => this.processor.hint(event.id));
    if (this.options.retryQueue) {
      this.retryWorker = createRetryWorker({
        connection: this.options.retryQueue.connection,
        logger,
        concurrency: this.options.retryQueue.concurrency ?? 32,
        retry: (ids) => this.dispatcher.retry(ids),
      });
    }
    this.lease = runPeriodically('heartbeat', Math.max(100, Math.floor(timing.deliveryStaleMs / 5)), async () => {
      await this.instanceLease.renew();
    }, logger);
    this.loops = [
      runPeriodically('event-sweeper', timing.sweeperIntervalMs, async () => {
        // Pipelined: the next batch is claimed and fanned out while the previous one's
        // deliveries are still going out, so draining a backlog is bound by the slower of the
        // two stages, not by their sum.
        const { processed, failed } = await this.processor.sweepPipelined();
        if (processed > 0) logger.info({ processed, failed }, 'sweeper processed events that missed the fast path');
        return processed + failed >= timing.sweeperBatchSize;
      }, logger),
      runPeriodically('delivery-poller', timing.deliveryPollIntervalMs, async () => {
        const claimed = await this.dispatcher.pollDue();
        return claimed >= timing.sweeperBatchSize;
      }, logger),
    ];
  }

  /** Stops taking new work, then lets in-flight sends finish and their outcomes be written. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all(this.loops.map((loop) => loop.stop()));
    // Worker.close waits for the jobs it is running, which wait for their sends.
    await this.retryWorker?.close();
    await this.processor.drain();
    await this.dispatcher.drain();
    await this.retryQueue?.close();
    await this.lease?.stop();
    await this.instanceLease.release();
  }
}
