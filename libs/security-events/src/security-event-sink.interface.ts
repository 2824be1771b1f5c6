import type { SecurityEvent } from './security-event.interface';

/**
 * Where security events go: the port every reporter implements (the structured log line by
 * default, Sentry when a DSN is configured, an app's audit trail). A sink receives the event as
 * emitted, personal identifiers included, so one that stores or sends it must reduce or
 * pseudonymise them first, and must never block or throw: `record` is called on the request path.
 */
export interface SecurityEventSink {
  record(event: SecurityEvent, at: Date): void;
}
