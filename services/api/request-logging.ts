import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify logs two lines per request at info ("incoming request", "request completed"): at
 * ingest rates that is most of the logging cost and drowns the lines that matter. Here they are
 * debug. Failures still reach the log: the error handler logs every rejected request (info) and
 * failed one (error), and a response that errors while being sent stays at error here.
 */
export class QuietRequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;

/**
 * Fastify gives every request a child logger carrying its reqId, and pino builds one eagerly
 * (bindings serialised, redaction set up) even though most requests now write no line at all.
 * This stand-in builds the real child on the first line written at an enabled level.
 */
class LazyRequestLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
  ) {}

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.materialise().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.materialise().child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.real) {
      const enabled = (this.parent as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
      if (enabled && !enabled.call(this.parent, level)) return;
    }
    (this.materialise()[level] as (...args: unknown[]) => void)(...args);
  }

  private materialise(): FastifyBaseLogger {
    return (this.real ??= this.parent.child(this.bindings));
  }
}

/** Fastify's childLoggerFactory: lazy unless the route asks for its own level or serializers. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  if (Object.keys(options).length > 0) return logger.child(bindings, options);
  return new LazyRequestLogger(logger, bindings);
}
