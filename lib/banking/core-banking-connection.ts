import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { CoreBanking } from './core-banking.js';
import { createHttpCoreBanking } from './core-banking-http.js';
import { startSimulatedCoreBank, type SimulatedCoreBank } from './sandbox/simulated-core-bank.js';

export interface CoreBankingConnection {
  coreBanking: CoreBanking;
  /** One line for the start-up log: which core bank Herald talks to. */
  summary: string;
  /** The loopback core bank standing in for an unconfigured one. */
  simulated?: SimulatedCoreBank;
  close(): Promise<void>;
}

type CoreBankingConfig = Pick<Config, 'CORE_BANKING_URL' | 'CORE_BANKING_AUTH_HEADER' | 'CORE_BANKING_AUTH_VALUE' | 'CORE_BANKING_TIMEOUT_MS' | 'CORE_BANKING_BATCH_SIZE'>;

/**
 * The HTTP adapter, always. Without CORE_BANKING_URL it talks to the simulated core bank,
 * started here on loopback, so the same code path (timeouts, error classification) runs.
 */
export async function connectCoreBanking(config: CoreBankingConfig, logger: Logger): Promise<CoreBankingConnection> {
  const common = { timeoutMs: config.CORE_BANKING_TIMEOUT_MS, maxBatch: config.CORE_BANKING_BATCH_SIZE };
  if (config.CORE_BANKING_URL) {
    const coreBanking = createHttpCoreBanking({
      baseUrl: config.CORE_BANKING_URL,
      auth: config.CORE_BANKING_AUTH_VALUE ? { header: config.CORE_BANKING_AUTH_HEADER, value: config.CORE_BANKING_AUTH_VALUE } : undefined,
      ...common,
    });
    const summary = `core banking: ${new URL(config.CORE_BANKING_URL).host}`;
    logger.info(summary);
    return { coreBanking, summary, close: async () => {} };
  }
  const simulated = await startSimulatedCoreBank();
  const summary = `core banking: simulated core bank on 127.0.0.1:${simulated.port} (nothing leaves this machine)`;
  logger.info({ sandboxed: ['core-banking'] }, summary);
  return { coreBanking: createHttpCoreBanking({ baseUrl: simulated.url, ...common }), summary, simulated, close: () => simulated.close() };
}
