import os from 'node:os';
import { z } from 'zod';

const ms = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

const configSchema = z.object({
  DATABASE_URL: z.url().default('postgresql://postgres@127.0.0.1:5432/herald'),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  HERALD_INSTANCE_ID: z.string().min(1).default(`${os.hostname()}-${process.pid}`),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  EVENT_MAX_PAYLOAD_BYTES: z.coerce.number().int().positive().default(64 * 1024),
  /** How long an unprocessed event may wait for its pub/sub hint before the sweeper takes it. */
  SWEEPER_GRACE_MS: ms(5_000),
  SWEEPER_INTERVAL_MS: ms(1_000),
  SWEEPER_BATCH_SIZE: z.coerce.number().int().positive().default(500),
  EVENT_MAX_PROCESS_ATTEMPTS: z.coerce.number().int().positive().default(10),
  /** A notifier silent (no heartbeat) this long is presumed dead; its SENDING deliveries are re-sent. */
  DELIVERY_STALE_MS: ms(30_000),
  DELIVERY_POLL_INTERVAL_MS: ms(1_000),
  DELIVERY_SEND_TIMEOUT_MS: ms(15_000),
  DELIVERY_CONCURRENCY: z.coerce.number().int().positive().default(64),
  PG_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** Largest HTTP request body; 413 above it. */
  API_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  /** Requests per minute per API key, unless the key carries its own limit. */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  /** HMAC secret providers sign delivery receipts with; receipts are refused while unset. */
  RECEIPT_SIGNING_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  readonly code = 'HERALD_ERR_CONFIG';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; every process calls this at start-up and fails fast on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({ variable: issue.path.join('.'), message: issue.message })),
    );
  }
  return result.data;
}
