import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config.js';

const optional = z.string().min(1).optional();

/** Provider settings. A provider whose variables are absent runs against a loopback sandbox. */
const providerSchema = z.object({
  FCM_SERVICE_ACCOUNT_JSON: optional,
  FCM_SERVICE_ACCOUNT_FILE: optional,
  SMTP_HOST: optional,
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_SECURE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  SMTP_USER: optional,
  SMTP_PASS: optional,
  EMAIL_FROM: z.string().min(3).default('"Herald Bank" <no-reply@herald.invalid>'),
  EMAIL_MESSAGE_ID_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name').default('herald.invalid'),
  SMS_GATEWAY_URL: z.url().optional(),
  SMS_GATEWAY_AUTH_HEADER: z.string().default('Authorization'),
  SMS_GATEWAY_AUTH_VALUE: optional,
  SMS_SENDER: optional,
  SMS_MESSAGE_ID_PATH: z.string().default('messageId'),
  SMS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  CHANNEL_PAUSE_MS: z.coerce.number().int().positive().default(10 * 60_000),
  /** Operations address for alert emails (dead letters, paused channels); sent through the SMTP settings above. */
  OPS_ALERT_EMAIL: z.email('must be an email address').optional(),
});

export type ProviderConfig = z.infer<typeof providerSchema> & { fcmServiceAccount?: Record<string, unknown> };

export function loadProviderConfig(env: NodeJS.ProcessEnv = process.env): ProviderConfig {
  const result = providerSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => ({ variable: i.path.join('.'), message: i.message })));
  }
  const config: ProviderConfig = result.data;
  const raw = config.FCM_SERVICE_ACCOUNT_JSON ?? (config.FCM_SERVICE_ACCOUNT_FILE ? readFileSync(config.FCM_SERVICE_ACCOUNT_FILE, 'utf8') : undefined);
  if (raw) {
    const variable = config.FCM_SERVICE_ACCOUNT_JSON ? 'FCM_SERVICE_ACCOUNT_JSON' : 'FCM_SERVICE_ACCOUNT_FILE';
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ConfigError([{ variable, message: 'is not valid JSON' }]);
    }
    const account = z.object({ project_id: z.string(), client_email: z.string(), private_key: z.string() }).loose().safeParse(parsed);
    if (!account.success) throw new ConfigError([{ variable, message: 'must be a service-account key with project_id, client_email and private_key' }]);
    config.fcmServiceAccount = account.data;
  }
  if (config.SMTP_USER && !config.SMTP_PASS) throw new ConfigError([{ variable: 'SMTP_PASS', message: 'is required when SMTP_USER is set' }]);
  return config;
}
