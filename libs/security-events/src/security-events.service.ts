import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { SecurityEvent } from './security-event.interface';
import type { SecurityEventSink } from './security-event-sink.interface';
import { SECURITY_EVENTS_MODULE_OPTIONS, type SecurityEventsModuleOptions } from './security-events.module-definition';
import { Pseudonymizer } from './pseudonymizer';
import { initSentry, Sentry } from './sentry';

const SENTRY_LEVEL = { info: 'info', warning: 'warning', critical: 'error' } as const;

/**
 * The one place security events are reported: a structured log line, and a Sentry event when a
 * DSN is configured (personal identifiers pseudonymised for both), and every in-process sink added
 * with `addSink` (the audit trail). `auditOnly` events go to the sinks alone.
 */
@Injectable()
export class SecurityEvents implements OnApplicationShutdown {
  private readonly logger = new Logger('SecurityEvents');
  private readonly pseudonymizer: Pseudonymizer;
  private readonly sentryEnabled: boolean;
  private readonly sinks: SecurityEventSink[] = [];

  constructor(@Inject(SECURITY_EVENTS_MODULE_OPTIONS) private readonly options: SecurityEventsModuleOptions) {
    this.pseudonymizer = new Pseudonymizer(options.pseudonymKey);
    this.sentryEnabled = Boolean(options.sentryDsn);
    if (options.sentryDsn) initSentry(options.sentryDsn, options.service, options.environment);
  }

  pseudonymize(value: string): string {
    return this.pseudonymizer.pseudonymize(value);
  }

  /** Adds an in-process sink (the app's audit trail) that receives every event from now on. */
  addSink(sink: SecurityEventSink): void {
    this.sinks.push(sink);
  }

  emit(event: SecurityEvent): void {
    if (this.sinks.length > 0) {
      const at = new Date();
      for (const sink of this.sinks) sink.record(event, at);
    }
    if (event.auditOnly) return;
    const pseudonyms: Record<string, string> = {};
    for (const [key, value] of Object.entries(event.pseudonymous ?? {})) {
      if (value !== undefined) pseudonyms[`${key}Pseudonym`] = this.pseudonymize(value);
    }
    const payload = {
      securityEvent: event.type,
      severity: event.severity,
      rule: event.rule,
      service: this.options.service,
      ...pseudonyms,
      ...event.details,
    };
    if (event.severity === 'info') this.logger.log(payload);
    else this.logger.warn(payload);

    if (this.sentryEnabled) {
      Sentry.captureEvent({
        message: event.rule ? `${event.type}: ${event.rule}` : event.type,
        level: SENTRY_LEVEL[event.severity],
        // One Sentry issue per rule: a wave of attacks groups together instead of flooding.
        fingerprint: ['security-event', event.type, event.rule ?? 'default'],
        tags: { securityEvent: event.type, rule: event.rule ?? 'default', service: this.options.service },
        extra: { ...pseudonyms, ...event.details },
      });
    }
  }

  /** Sends buffered Sentry events; tests and shutdown use it. */
  async flush(timeoutMs = 2000): Promise<boolean> {
    return this.sentryEnabled ? Sentry.flush(timeoutMs) : true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }
}
