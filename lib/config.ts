import os from 'node:os';
import cron from 'node-cron';
import { z } from 'zod';

const ms = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const cronExpression = (fallback: string) =>
  z.string().refine((value) => cron.validate(value), 'must be a cron expression such as "*/5 * * * *" (six fields allow seconds)').default(fallback);

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
  /**
   * How long the API trusts a verified key without asking Postgres (0: ask every request). A
   * revocation reaches running servers at once over Redis; this bounds it when that message is lost.
   */
  API_KEY_CACHE_TTL_MS: ms(30_000),
  /** How long an unknown or revoked key stays refused without asking Postgres again. */
  API_KEY_NEGATIVE_CACHE_TTL_MS: ms(5_000),
  /** Entries per API-key cache (verified keys; refused keys), oldest evicted first. */
  API_KEY_CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(10_000),
  /** HMAC secret providers sign delivery receipts with; receipts are refused while unset. */
  RECEIPT_SIGNING_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * How often the scheduler folds the stats triggers' deltas into the hourly rollup. A cron
   * seconds step, hence a divisor of 60. Stats stay exact between runs (readers add pending
   * deltas); the interval only bounds how many deltas a reader has to add.
   */
  STATS_ROLLUP_INTERVAL_SEC: z.coerce
    .number()
    .int()
    .min(1)
    .max(30)
    .refine((s) => 60 % s === 0, 'must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30)')
    .default(10),
  /** The core bank's adapter endpoint; unset runs the simulated core bank on loopback. */
  CORE_BANKING_URL: z.url().optional(),
  CORE_BANKING_AUTH_HEADER: z.string().min(1).default('Authorization'),
  CORE_BANKING_AUTH_VALUE: z.string().min(1).optional(),
  /** Upper bound of one core-banking request. */
  CORE_BANKING_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** Account numbers per balance request: a sync pulls balances in chunks of this size. */
  CORE_BANKING_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(200),
  /** The periodic full balance sync; the backstop for immediate syncs whose hint was lost. */
  BALANCE_SYNC_CRON: cronExpression('*/5 * * * *'),
  /** transaction.completed hints arriving within this window are synced together in one run. */
  BALANCE_SYNC_COALESCE_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /** The sweep that discovers the accounts of customers whose user.registered hint was lost or failed. */
  ACCOUNT_DISCOVERY_SWEEP_CRON: cronExpression('30 * * * * *'),
  /**
   * How long a customer is left to its user.registered hint before the sweep takes it, and how
   * long after a failed attempt the sweep tries again.
   */
  ACCOUNT_DISCOVERY_RETRY_MS: ms(60_000),
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
