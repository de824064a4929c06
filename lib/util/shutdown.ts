import type { Logger } from '../logger.js';

/**
 * Stops what was started in reverse order of start-up on SIGTERM/SIGINT, once; a second
 * signal forces the exit. Each step is awaited so in-flight work drains first.
 */
export function onShutdown(logger: Logger, steps: { name: string; stop: () => Promise<void> }[]): void {
  let stopping = false;
  const handler = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const step of [...steps].reverse()) {
      try {
        await step.stop();
      } catch (error) {
        logger.error({ err: error, step: step.name }, 'shutdown step failed');
      }
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void handler('SIGTERM'));
  process.once('SIGINT', () => void handler('SIGINT'));
}
