import type { ChannelSet } from './channel.js';
import { SandboxChannel, type SandboxOptions } from './sandbox-channel.js';

/** In-process sandbox senders for every channel (no provider configured). */
export function createSandboxChannels(options: SandboxOptions = {}): ChannelSet {
  return {
    push: new SandboxChannel('push', options),
    email: new SandboxChannel('email', options),
    sms: new SandboxChannel('sms', options),
  };
}
