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

/** An API key may ride in `?key=` (EventSource cannot send headers); it never reaches a log. */
export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&]key=)[^&]*/g, '$1[redacted]');
}

interface LoggedRequest {
  id?: string;
  method?: string;
  url?: string;
  ip?: string;
}

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'herald',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    // Fastify logs its request and reply objects through these: only what an operator needs,
    // never headers (Authorization) nor a key in the query string.
    serializers: {
      err: pino.stdSerializers.err,
      req: (req: LoggedRequest) => ({ id: req.id, method: req.method, url: redactUrl(req.url), ip: req.ip }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
