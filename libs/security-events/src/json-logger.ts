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
    errorStack?: unknown,
  ): void {
    for (const message of messages) {
      // The line's own fields come last: alerting and routing key on them, and a message object
      // must not rewrite them. The stack goes in the same line as its message, so that a log
      // pipeline that reads a line at a time keeps them together.
      const stack = typeof errorStack === 'string' ? errorStack : message instanceof Error ? message.stack : undefined;
      const own = {
        time: new Date().toISOString(),
        level: logLevel,
        service: this.service,
        context: context || undefined,
        ...(stack === undefined ? {} : { stack }),
      };
      const fields =
        message instanceof Error
          ? { msg: message.message, error: message.name }
          : message !== null && typeof message === 'object'
            ? message
            : { msg: String(message) };
      const stream = writeStreamType ?? (logLevel === 'error' || logLevel === 'fatal' ? 'stderr' : 'stdout');
      process[stream].write(`${encodeLine(own, fields)}\n`);
    }
  }

  /** The stack is written in its message's line (printMessages). */
  protected override printStackTrace(): void {}
}

/** One JSON line; a message JSON cannot encode (a cycle, a BigInt) is named, since a logger that throws fails its caller. */
function encodeLine(own: Record<string, unknown>, fields: object): string {
  try {
    // `own` first for the order of the line, and again last so that its values win. A `toJSON`
    // of the message's own would replace the whole line.
    const line: Record<string, unknown> = { ...own, ...fields, ...own };
    delete line.toJSON;
    return JSON.stringify(line, withErrors);
  } catch (error) {
    // A getter or toJSON may throw anything, and the fallback must not throw in its turn.
    return JSON.stringify({ ...own, msg: `a log message could not be encoded: ${describeThrown(error)}` });
  }
}

/** An Error in a message's fields keeps its name, message and stack (JSON.stringify alone writes `{}`). */
function withErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack, cause: value.cause } : value;
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
