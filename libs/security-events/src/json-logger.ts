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
      // must not rewrite them.
      const own = { time: new Date().toISOString(), level: logLevel, service: this.service, context: context || undefined };
      const stream = writeStreamType ?? (logLevel === 'error' || logLevel === 'fatal' ? 'stderr' : 'stdout');
      process[stream].write(`${encodeLine(own, message, errorStack)}\n`);
    }
  }

  /** The stack is written in its message's line (printMessages). */
  protected override printStackTrace(): void {}
}

/**
 * One JSON line; a message JSON cannot encode (a cycle, a BigInt) is named, since a logger that
 * throws fails its caller. The stack goes in the same line as its message, so that a log pipeline
 * that reads a line at a time keeps them together.
 */
function encodeLine(own: Record<string, unknown>, message: unknown, errorStack: unknown): string {
  try {
    // Read here, not before: an Error's stack or name may be a getter that throws.
    const stack = typeof errorStack === 'string' ? errorStack : message instanceof Error ? message.stack : undefined;
    const head = stack === undefined ? own : { ...own, stack };
    const fields =
      message instanceof Error
        ? { msg: message.message, error: message.name }
        : message !== null && typeof message === 'object'
          ? message
          : { msg: String(message) };
    // `head` first for the order of the line, and again last so that its values win. A `toJSON`
    // of the message's own would replace the whole line.
    const line: Record<string, unknown> = { ...head, ...fields, ...head };
    delete line.toJSON;
    return JSON.stringify(line, withErrors);
  } catch (error) {
    // A getter or toJSON may throw anything, and the fallback must not throw in its turn.
    return JSON.stringify({ ...own, msg: `a log message could not be encoded: ${describeThrown(error)}` });
  }
}

/**
 * An Error in a message's fields is written as {@link describeError} says (JSON.stringify alone
 * writes `{}`, or what the Error's toJSON returns). `value` is what a toJSON returned; the holder
 * (`this`) still has the Error itself.
 */
function withErrors(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return original instanceof Error ? describeError(original, new Set()) : value;
}

/**
 * An Error's name, message, stack and the Errors that caused it, each once. Nothing else: its other
 * properties, its toJSON and a cause that is not an Error can carry what a request carried (an
 * HTTP client's headers and body, a query's parameters).
 */
function describeError(error: Error, written: Set<Error>): Record<string, unknown> {
  written.add(error);
  const { cause } = error;
  const described = cause instanceof Error ? (written.has(cause) ? '[Circular]' : describeError(cause, written)) : undefined;
  return { name: error.name, message: error.message, stack: error.stack, cause: described };
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
