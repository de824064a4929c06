import { pino, type Logger } from 'pino';

export type { Logger };

/** Contact details never reach the logs in clear text. */
export const redactedPaths = [
  '*.email',
  '*.phone',
  '*.token',
  '*.deviceToken',
  '*.tokens',
  'recipient.*',
  'req.headers.authorization',
  'headers.authorization',
];

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'herald',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
  });
}
