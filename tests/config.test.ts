import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../lib/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:6379', HTTP_PORT: 3000, DELIVERY_STALE_MS: 30_000, API_RATE_LIMIT_PER_MINUTE: 600 });
    expect(config.RECEIPT_SIGNING_SECRET).toBeUndefined();
  });

  it('names every malformed variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'not a url', HTTP_PORT: '99999', RECEIPT_SIGNING_SECRET: 'short', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['DATABASE_URL', 'HTTP_PORT', 'LOG_LEVEL', 'RECEIPT_SIGNING_SECRET']);
    expect((error as ConfigError).message).toContain('RECEIPT_SIGNING_SECRET: must be at least 16 characters');
  });
});
