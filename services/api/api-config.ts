import { z } from 'zod';
import { ConfigError } from '../../lib/config.js';

/**
 * Settings only the API reads (to be folded into lib/config.ts and the README table):
 * API_BODY_LIMIT_BYTES  largest request body (413 above it), default 262144 (256 KiB)
 * API_RATE_LIMIT_PER_MINUTE  requests per minute per API key unless the key has its own
 *   rate_limit_per_minute, default 600
 */
const apiConfigSchema = z.object({
  API_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const result = apiConfigSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => ({ variable: i.path.join('.'), message: i.message })));
  }
  return result.data;
}
