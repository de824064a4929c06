import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';

describe('banking configuration', () => {
  it('defaults: simulated core bank, a full sync every five minutes', () => {
    const config = loadConfig({});
    expect(config.CORE_BANKING_URL).toBeUndefined();
    expect(config).toMatchObject({
      BALANCE_SYNC_CRON: '*/5 * * * *',
      BALANCE_SYNC_COALESCE_MS: 2_000,
      CORE_BANKING_TIMEOUT_MS: 5_000,
      CORE_BANKING_BATCH_SIZE: 200,
      ACCOUNT_DISCOVERY_SWEEP_CRON: '30 * * * * *',
      ACCOUNT_DISCOVERY_RETRY_MS: 60_000,
    });
  });

  it('names each malformed banking variable', () => {
    let error: unknown;
    try {
      loadConfig({ CORE_BANKING_URL: 'core-bank', BALANCE_SYNC_CRON: 'every five minutes', CORE_BANKING_BATCH_SIZE: '0', ACCOUNT_DISCOVERY_SWEEP_CRON: '* * *' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.variable).sort()).toEqual(['ACCOUNT_DISCOVERY_SWEEP_CRON', 'BALANCE_SYNC_CRON', 'CORE_BANKING_BATCH_SIZE', 'CORE_BANKING_URL']);
    expect(problems.find((p) => p.variable === 'BALANCE_SYNC_CRON')!.message).toContain('must be a cron expression');
  });
});
