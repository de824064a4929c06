import { channelNames, type Channel, type ChannelName, type ChannelSet, type OutboundMessage } from '../channels/channel.js';
import type { ChannelHealth } from '../channels/channel-health.js';
import type { FanOutWork } from './fan-out.js';
import type { OperatorAlerts } from './operator-alerts.js';
import { TransientDeliveryError, type DeliveryError } from '../channels/delivery-errors.js';
import { withTransaction, type Pool } from '../db/pool.js';
import type { EventBus } from '../events/event-bus.js';
import type { StoredEvent } from '../events/stored-event.js';
import type { Logger } from '../logger.js';
import { retryDelayMs, type RetrySchedules } from '../queues/retry-policy.js';
import { Batcher } from '../util/batcher.js';
import { SharedDeadlines } from '../util/deadline.js';
import { Semaphore } from '../util/semaphore.js';
import { lifecycleEvents, storeLifecycleEvents } from './lifecycle-events.js';
import {
  claimByIds, claimDue, deactivateTokens, recordOutcomes,
  type ClaimedDelivery, type DeliveryOutcome, type DueClaimOptions, type RecordedOutcome,
} from './delivery-store.js';

export interface RetryScheduler {
  /** Called after a RETRYING outcome is committed; the delivery must be retried at `at`. */
  schedule(deliveryId: string, attempt: number, at: Date): Promise<void>;
}

export interface DispatcherOptions {
  pool: Pool;
  channels: ChannelSet;
  bus: EventBus;
  logger: Logger;
  instanceId: string;
  retrySchedules: RetrySchedules;
  sendTimeoutMs: number;
  concurrency: number;
  poll: Omit<DueClaimOptions, 'channels'>;
  retryScheduler?: RetryScheduler;
  /** Pauses a channel on configuration errors; a paused channel's deliveries wait, unclaimed. */
  health?: ChannelHealth;
  /** How long a configuration error pauses a channel when no health registry is given. */
  configurationPauseMs?: number;
  /** Raises dead-letter alerts (log, and email when configured); defaults to an error log line. */
  alerts?: OperatorAlerts;
  /** Called once per outcome written: metrics, the live status feed. */
  onOutcome?: (outcome: DeliveryOutcome, recorded: RecordedOutcome) => void;
}

/**
 * Sends claimed deliveries through their channel with bounded concurrency and writes the
 * outcomes in batches. Claiming (a conditional status change) guarantees one sender per
 * delivery; the outcome write closes the attempt.
 */
export class DeliveryDispatcher {
  private readonly slots: Semaphore;
  private readonly recorder: Batcher<DeliveryOutcome, void>;
  private readonly active: ChannelName[];
  private readonly sendDeadlines: SharedDeadlines;

  constructor(private readonly options: DispatcherOptions) {
    this.slots = new Semaphore(options.concurrency);
    this.sendDeadlines = new SharedDeadlines(options.sendTimeoutMs);
    this.active = channelNames.filter((c) => options.channels[c]);
    this.recorder = new Batcher<DeliveryOutcome, void>({
      run: async (outcomes) => {
        await this.record(outcomes);
        return outcomes.map(() => undefined);
      },
      maxSize: 500,
      lingerMs: 2,
      maxPending: 10_000,
      // Group commit: outcomes arriving while two writes are running share the next one.
      maxConcurrent: 2,
    });
  }

  /** Fast path: deliveries just created by fan-out, some of them already claimed for this instance. */
  async dispatch(work: FanOutWork): Promise<number> {
    const claimed = work.claimed.concat(await claimByIds(this.options.pool, work.pending, this.options.instanceId, this.availableChannels()));
    await this.sendAll(claimed);
    return claimed.length;
  }

  /** A due retry, named by its BullMQ job. */
  async retry(ids: string[]): Promise<number> {
    const claimed = await claimByIds(this.options.pool, ids, this.options.instanceId, this.availableChannels(), 'RETRYING');
    await this.sendAll(claimed);
    return claimed.length;
  }

  /** Durable path: anything due or orphaned. Returns how many were claimed. */
  async pollDue(): Promise<number> {
    const channels = this.availableChannels();
    if (channels.length === 0) return 0;
    const claimed = await claimDue(this.options.pool, this.options.instanceId, { ...this.options.poll, channels });
    await this.sendAll(claimed);
    return claimed.length;
  }

  /** When a paused channel's deliveries may be tried again (an open-ended pause is retried after the default pause). */
  private pauseEnd(channel: ChannelName): Date {
    return new Date(this.options.health?.pauseOf(channel)?.until ?? Date.now() + (this.options.configurationPauseMs ?? 600_000));
  }

  /** Channels that may send now: configured and not paused. */
  availableChannels(): ChannelName[] {
    const health = this.options.health;
    return health ? this.active.filter((c) => !health.isPaused(c)) : this.active;
  }

  async drain(): Promise<void> {
    await this.slots.idle();
    await this.recorder.drain();
  }

  private async sendAll(claimed: ClaimedDelivery[]): Promise<void> {
    // Outcomes are awaited so that a caller's "done" means "written", not merely "sent".
    await Promise.all(
      claimed.map(async (delivery) => {
        const release = await this.slots.acquire();
        let outcome: DeliveryOutcome;
        try {
          outcome = await this.sendOne(delivery);
        } finally {
          release();
        }
        await this.recorder.add(outcome);
      }),
    );
  }

  private async sendOne(delivery: ClaimedDelivery): Promise<DeliveryOutcome> {
    const channel = this.options.channels[delivery.channel] as Channel | undefined;
    const started = performance.now();
    const base = { id: delivery.id, channel: delivery.channel, attempt: delivery.attempt };
    if (!channel) {
      return { ...base, status: 'FAILED', errorCode: 'channel_not_configured', error: `no ${delivery.channel} channel`, latencyMs: 0 };
    }
    const recipient = {
      userId: delivery.userId,
      email: delivery.email,
      phone: delivery.phone,
      deviceTokens: delivery.deviceTokens,
      locale: delivery.locale,
      timeZone: delivery.timeZone,
    };
    if (!channel.canReach(recipient)) {
      return { ...base, status: 'SKIPPED', errorCode: 'no_contact', error: `recipient has no ${delivery.channel} contact`, latencyMs: 0 };
    }
    const message: OutboundMessage = {
      deliveryId: delivery.id,
      notificationId: delivery.notificationId,
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      priority: delivery.priority,
      attempt: delivery.attempt,
      recipient,
      content: delivery.content as never,
    };
    const pause = this.options.health?.pauseOf(delivery.channel);
    if (pause) {
      // Claimed before the channel paused (at fan-out, or waiting for a slot): it waits out the
      // pause without reaching the provider and without spending its attempt.
      return { ...base, status: 'RETRYING', refundAttempt: true, nextAttemptAt: this.pauseEnd(delivery.channel), errorCode: 'channel_paused', error: `${delivery.channel} is paused: ${pause.code}`, latencyMs: 0 };
    }
    const timeout = this.sendDeadlines.start();
    try {
      const result = await withAbort(channel.send(message, timeout.signal), timeout.signal);
      if (result.deadTokens?.length) await deactivateTokens(this.options.pool, result.deadTokens, 'unregistered');
      return { ...base, status: 'SENT', providerMessageId: result.providerMessageId, response: result.response, latencyMs: performance.now() - started };
    } catch (raw) {
      const error = timeout.signal.aborted && !(raw instanceof Error && 'kind' in raw)
        ? new TransientDeliveryError('timeout', `no answer within ${this.options.sendTimeoutMs} ms`)
        : channel.classify(raw);
      return this.failure(delivery, error, performance.now() - started);
    } finally {
      timeout.clear();
    }
  }

  private async failure(delivery: ClaimedDelivery, error: DeliveryError, latencyMs: number): Promise<DeliveryOutcome> {
    const base = { id: delivery.id, channel: delivery.channel, attempt: delivery.attempt, error: error.message, errorCode: error.code, latencyMs, response: error.providerResponse };
    if ('deadTokens' in error && Array.isArray(error.deadTokens) && error.deadTokens.length > 0) {
      await deactivateTokens(this.options.pool, error.deadTokens as string[], error.code);
    }
    if (error.kind === 'permanent') return { ...base, status: 'FAILED' };
    if (error.kind === 'configuration') {
      // Herald's own set-up is wrong, not this message: wait for the operator without
      // spending the delivery's attempt budget.
      this.options.health?.report(delivery.channel, error);
      return { ...base, status: 'RETRYING', refundAttempt: true, nextAttemptAt: this.pauseEnd(delivery.channel) };
    }
    const schedule = this.options.retrySchedules[delivery.channel];
    if (error.kind === 'transient' && delivery.attempt >= schedule.maxAttempts) return { ...base, status: 'DEAD_LETTERED' };
    const retryAfter = error instanceof TransientDeliveryError ? error.retryAfterMs : undefined;
    const delay = retryDelayMs(schedule, delivery.attempt, retryAfter);
    return { ...base, status: 'RETRYING', nextAttemptAt: new Date(Date.now() + delay) };
  }

  private async record(outcomes: DeliveryOutcome[]): Promise<void> {
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    const { recorded, published } = await this.persist(outcomes, byId);
    for (const row of recorded) {
      const outcome = byId.get(row.id)!;
      this.options.onOutcome?.(outcome, row);
      if (row.status === 'RETRYING' && this.options.retryScheduler && outcome.nextAttemptAt) {
        await this.options.retryScheduler.schedule(row.id, outcome.attempt, outcome.nextAttemptAt).catch((error) =>
          this.options.logger.warn({ err: error, deliveryId: row.id }, 'could not schedule retry; the poller will pick it up'),
        );
      }
    }
    for (const d of recorded.filter((r) => r.status === 'DEAD_LETTERED')) {
      const outcome = byId.get(d.id);
      const details = { deliveryId: d.id, channel: d.channel, eventType: d.eventType, attempts: outcome?.attempt, error: outcome?.error };
      if (this.options.alerts) this.options.alerts.raise({ kind: 'delivery_dead_lettered', summary: `${d.channel} delivery dead-lettered after its last attempt`, details });
      else this.options.logger.error(details, 'delivery dead-lettered after its last attempt');
    }
    await this.options.bus.broadcast(published);
  }

  /**
   * The provider has accepted these sends: losing their outcome would mean a resend, so a
   * Postgres outage is waited out (bounded) rather than given up on at the first error.
   * Outcomes, completed notifications and the lifecycle events they raise commit together.
   */
  private async persist(outcomes: DeliveryOutcome[], byId: Map<string, DeliveryOutcome>): Promise<{ recorded: RecordedOutcome[]; published: StoredEvent[] }> {
    const deadline = Date.now() + 5 * 60_000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTransaction(this.options.pool, async (client) => {
          const recorded = await recordOutcomes(client, outcomes);
          const published = await storeLifecycleEvents(client, await lifecycleEvents(client, recorded, byId));
          return { recorded, published };
        });
      } catch (error) {
        if (Date.now() > deadline) throw error;
        this.options.logger.warn({ err: error, outcomes: outcomes.length, attempt }, 'could not record send outcomes; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }
}

function withAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
