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
      const line: Record<string, unknown> = {
        time: new Date().toISOString(),
        level: logLevel,
        service: this.service,
        context: context || undefined,
      };
      if (message !== null && typeof message === 'object' && !(message instanceof Error)) Object.assign(line, message);
      else line.msg = message instanceof Error ? message.message : String(message);
      const stream = writeStreamType ?? (logLevel === 'error' || logLevel === 'fatal' ? 'stderr' : 'stdout');
      process[stream].write(`${JSON.stringify(line)}\n`);
    }
  }

  protected override printStackTrace(stack: string): void {
    if (stack)
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', service: this.service, stack })}\n`);
  }
}

/** Levels at and above `level`, in Nest's order. */
export function logLevelsFrom(level: LogLevel): LogLevel[] {
  const order: LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];
  return order.slice(order.indexOf(level));
}
