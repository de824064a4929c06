import type { Logger } from '../logger.js';
import type { Redis } from '../redis.js';

/**
 * How a revocation reaches the API-key caches. In this process it is a direct call, so a
 * revoke answered here is enforced here at once; other processes hear it on Redis pub/sub.
 * Pub/sub is lossy, which is why every cached key also expires (API_KEY_CACHE_TTL_MS): a lost
 * message delays the revocation by at most that long, never forever.
 */
export const revocationChannel = 'herald:api-keys:revoked';

/** `keyId` null means "forget every key": messages may have been missed (reconnect). */
export type RevocationListener = (keyId: string | null) => void;

const localListeners = new Set<RevocationListener>();

export function onApiKeyRevokedLocally(listener: RevocationListener): () => void {
  localListeners.add(listener);
  return () => {
    localListeners.delete(listener);
  };
}

export function announceRevocationLocally(keyId: string): void {
  for (const listener of localListeners) listener(keyId);
}

/**
 * Tells the other processes' caches. Resolves false instead of throwing when Redis cannot
 * take the message in time: the revocation is already committed, only its speed is at stake.
 */
export async function broadcastApiKeyRevocation(redis: Redis, keyId: string, timeoutMs = 3_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([redis.publish(revocationChannel, keyId).then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One Redis subscription per API process. The subscription is (re)made on every connect and
 * the listener is told to forget everything once it is active: revocations published while
 * the connection was down were lost, and a cache emptied after subscribing cannot hold a key
 * revoked before that moment.
 */
export class ApiKeyRevocationSubscriber {
  private connection: Redis | null = null;
  private subscribed = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly createConnection: () => Redis,
    private readonly listener: RevocationListener,
    private readonly logger?: Logger,
  ) {}

  start(): void {
    if (this.connection) return;
    const connection = this.createConnection();
    this.connection = connection;
    connection.on('message', (channel: string, message: string) => {
      if (channel === revocationChannel && message) this.listener(message);
    });
    connection.on('close', () => {
      this.subscribed = false;
    });
    connection.on('ready', () => {
      connection.subscribe(revocationChannel).then(
        () => {
          this.listener(null);
          this.subscribed = true;
          for (const wake of this.waiters.splice(0)) wake();
        },
        (error) => this.logger?.warn({ err: error }, 'API-key revocation subscription failed; cached keys still expire'),
      );
    });
  }

  /** Resolves once the subscription is active (tests wait on it before revoking elsewhere). */
  async whenSubscribed(): Promise<void> {
    if (this.subscribed) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.connection?.disconnect();
    this.connection = null;
    this.subscribed = false;
  }
}
