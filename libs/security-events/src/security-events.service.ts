import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';

import { Pseudonymizer } from './pseudonymizer';
import { LogSecurityEventSink } from './security-event-log.sink';
import { SentrySecurityEventSink } from './security-event-sentry.sink';
import type { SecurityEventSink } from './security-event-sink.interface';
import type { SecurityEvent } from './security-event.interface';
import { checkSecurityEventsOptions } from './security-events-options.check';
import { SECURITY_EVENTS_MODULE_OPTIONS, type SecurityEventsModuleOptions } from './security-events.module-definition';

/**
 * The one place security events are reported. Every event goes to each {@link SecurityEventSink}:
 * the structured log line (always), Sentry when a DSN is configured, and every in-process sink
 * added with `addSink` (the audit trail). `auditOnly` events are kept by in-process sinks alone.
 */
@Injectable()
export class SecurityEvents implements OnApplicationShutdown {
  private readonly pseudonymizer: Pseudonymizer;
  private readonly sentry?: SentrySecurityEventSink;
  private readonly sinks: SecurityEventSink[] = [];

  constructor(@Inject(SECURITY_EVENTS_MODULE_OPTIONS) options: SecurityEventsModuleOptions) {
    checkSecurityEventsOptions(options);
    this.pseudonymizer = new Pseudonymizer(options.pseudonymKey);
    this.sinks.push(new LogSecurityEventSink(options.service, this.pseudonymizer));
    if (options.sentryDsn) {
      this.sentry = new SentrySecurityEventSink(
        { dsn: options.sentryDsn, service: options.service, environment: options.environment },
        this.pseudonymizer,
      );
      this.sinks.push(this.sentry);
    }
  }

  pseudonymize(value: string): string {
    return this.pseudonymizer.pseudonymize(value);
  }

  /** Adds a sink (the app's audit trail) that receives every event from now on. */
  addSink(sink: SecurityEventSink): void {
    this.sinks.push(sink);
  }

  emit(event: SecurityEvent): void {
    const at = new Date();
    for (const sink of this.sinks) sink.record(event, at);
  }

  /** Reports an unexpected error (a bug, not a refusal) to Sentry when it is configured; otherwise does nothing. */
  captureException(error: unknown): void {
    this.sentry?.captureException(error);
  }

  /** Sends buffered Sentry events; tests and shutdown use it. */
  async flush(timeoutMs = 2000): Promise<boolean> {
    return this.sentry ? this.sentry.flush(timeoutMs) : true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }
}
