import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/**
 * One JSON object per line on stdout (stderr for errors). Objects passed as the message are merged
 * into the line, so `logger.warn({ securityEvent: 'x', ... })` yields searchable fields.
 * Stack traces stay in the log and never reach a response.
 */
export class JsonLogger extends ConsoleLogger {
  constructor(
    private readonly service: string,
    levels: LogLevel[],
  ) {
    super(service, { logLevels: levels });
  }

  protected override printMessages(
    messages: unknown[],
    context = '',
    logLevel: LogLevel = 'log',
    writeStreamType?: 'stdout' | 'stderr',
  ): void {
    for (const message of messages) {
      // The line's own fields come last: alerting and routing key on them, and a message object
      // must not rewrite them.
      const own = { time: new Date().toISOString(), level: logLevel, service: this.service, context: context || undefined };
      const fields =
        message !== null && typeof message === 'object' && !(message instanceof Error)
          ? message
          : { msg: message instanceof Error ? message.message : String(message) };
      const stream = writeStreamType ?? (logLevel === 'error' || logLevel === 'fatal' ? 'stderr' : 'stdout');
      process[stream].write(`${encodeLine(own, fields)}\n`);
    }
  }

  protected override printStackTrace(stack: string): void {
    if (stack)
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', service: this.service, stack })}\n`);
  }
}

/** One JSON line; a message JSON cannot encode (a cycle, a BigInt) is named, since a logger that throws fails its caller. */
function encodeLine(own: Record<string, unknown>, fields: object): string {
  try {
    // `own` first for the order of the line, and again last so that its values win.
    return JSON.stringify({ ...own, ...fields, ...own });
  } catch (error) {
    // A getter or toJSON may throw anything, and the fallback must not throw in its turn.
    return JSON.stringify({ ...own, msg: `a log message could not be encoded: ${describeThrown(error)}` });
  }
}

/** What was thrown, as text; String() itself throws for an object without a prototype or a throwing toString. */
function describeThrown(thrown: unknown): string {
  try {
    return thrown instanceof Error ? String(thrown.message) : String(thrown);
  } catch {
    return 'a value that cannot be printed';
  }
}

/** Levels at and above `level`, in Nest's order. */
export function logLevelsFrom(level: LogLevel): LogLevel[] {
  const order: LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];
  return order.slice(order.indexOf(level));
}
