import type { Config } from '../../lib/config.js';

/** The settings only the API reads; parsed with the rest of the configuration in lib/config.ts. */
export type ApiConfig = Pick<
  Config,
  'API_BODY_LIMIT_BYTES' | 'API_RATE_LIMIT_PER_MINUTE' | 'API_KEY_CACHE_TTL_MS' | 'API_KEY_NEGATIVE_CACHE_TTL_MS' | 'API_KEY_CACHE_MAX_ENTRIES'
>;

export function apiConfigFrom(config: Config): ApiConfig {
  return {
    API_BODY_LIMIT_BYTES: config.API_BODY_LIMIT_BYTES,
    API_RATE_LIMIT_PER_MINUTE: config.API_RATE_LIMIT_PER_MINUTE,
    API_KEY_CACHE_TTL_MS: config.API_KEY_CACHE_TTL_MS,
    API_KEY_NEGATIVE_CACHE_TTL_MS: config.API_KEY_NEGATIVE_CACHE_TTL_MS,
    API_KEY_CACHE_MAX_ENTRIES: config.API_KEY_CACHE_MAX_ENTRIES,
  };
}
