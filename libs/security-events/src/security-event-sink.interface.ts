import type { SecurityEvent } from './security-event.interface';

/**
 * An in-process consumer of security events (an audit trail). It receives the event as emitted,
 * personal identifiers included, so it must reduce them before storing (a network, never a full
 * address) and must never block or throw: `record` is called on the request path.
 */
export interface SecurityEventSink {
  record(event: SecurityEvent, at: Date): void;
}
