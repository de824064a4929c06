import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import type { Channel, ChannelName, OutboundMessage, Recipient, SendResult } from './channel.js';
import { isDeliveryError, PermanentDeliveryError, TransientDeliveryError, type DeliveryError } from './delivery-errors.js';

export interface SandboxSend {
  deliveryId: string;
  channel: ChannelName;
  attempt: number;
  at: number;
}

export interface SandboxOptions {
  latencyMs?: number;
  /** Fraction of sends answered with a transient error, for exercising retries. */
  transientFailureRate?: number;
  random?: () => number;
  /**
   * A file every accepted send is appended to, one JSON line each, written before send()
   * returns: the record of what "the provider" accepted survives a kill -9 of the sender.
   */
  sendLog?: string;
  /** While this file exists the provider is down: every send fails transiently (outage drills). */
  outageFlag?: string;
  /** Fraction of deliveries the provider refuses permanently, decided by delivery id (stable across attempts). */
  permanentFailureRate?: number;
}

/**
 * An in-process stand-in for a provider: it accepts every message and remembers what it was
 * handed, keyed by delivery id. Used by benchmarks and by tests that are about the pipeline
 * rather than a provider protocol.
 */
export class SandboxChannel<C extends ChannelName = ChannelName> implements Channel<C> {
  readonly sends: SandboxSend[] = [];
  private readonly counts = new Map<string, number>();

  constructor(readonly name: C, private readonly options: SandboxOptions = {}) {}

  canReach(recipient: Recipient): boolean {
    if (this.name === 'email') return Boolean(recipient.email);
    if (this.name === 'sms') return Boolean(recipient.phone);
    return recipient.deviceTokens.length > 0;
  }

  async send(message: OutboundMessage<C>): Promise<SendResult> {
    if (this.options.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    if (this.options.outageFlag && existsSync(this.options.outageFlag)) {
      throw new TransientDeliveryError('sandbox_outage', 'sandbox provider is down');
    }
    if (this.options.permanentFailureRate && stableFraction(message.deliveryId) < this.options.permanentFailureRate) {
      throw new PermanentDeliveryError('sandbox_rejected', 'sandbox provider refused this recipient');
    }
    const random = this.options.random ?? Math.random;
    if (this.options.transientFailureRate && random() < this.options.transientFailureRate) {
      throw new TransientDeliveryError('sandbox_unavailable', 'sandbox provider briefly unavailable');
    }
    const send = { deliveryId: message.deliveryId, channel: this.name, attempt: message.attempt, at: Date.now() };
    if (this.options.sendLog) appendFileSync(this.options.sendLog, `${JSON.stringify(send)}\n`);
    this.sends.push(send);
    this.counts.set(message.deliveryId, (this.counts.get(message.deliveryId) ?? 0) + 1);
    return { providerMessageId: `sandbox-${randomUUID()}`, response: { accepted: true } };
  }

  /** How many times the provider was handed this delivery. */
  timesSent(deliveryId: string): number {
    return this.counts.get(deliveryId) ?? 0;
  }

  classify(error: unknown): DeliveryError {
    if (isDeliveryError(error)) return error;
    return new TransientDeliveryError('sandbox_error', error instanceof Error ? error.message : String(error));
  }
}

/** A number in [0, 1) fixed by the delivery id, so the same delivery always gets the same verdict. */
/** Uniform in [0, 1) for any id shape: time-ordered ids share their leading digits. */
function stableFraction(id: string): number {
  return createHash('sha1').update(id).digest().readUInt32BE(0) / 0x1_0000_0000;
}
