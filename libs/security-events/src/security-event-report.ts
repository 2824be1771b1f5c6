import type { Pseudonymizer } from './pseudonymizer';
import type { SecurityEvent } from './security-event.interface';

/** The fields of an event as they may leave the process: personal identifiers only as pseudonyms. */
export interface SecurityEventReport {
  securityEvent: string;
  severity: SecurityEvent['severity'];
  rule?: string;
  service: string;
  [field: string]: string | number | boolean | null | undefined;
}

/** Builds the outgoing form of `event`; every `pseudonymous` value becomes `<key>Pseudonym`. */
export function securityEventReport(event: SecurityEvent, service: string, pseudonymizer: Pseudonymizer): SecurityEventReport {
  const pseudonyms: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.pseudonymous ?? {})) {
    if (value !== undefined) pseudonyms[`${key}Pseudonym`] = pseudonymizer.pseudonymize(value);
  }
  return { securityEvent: event.type, severity: event.severity, rule: event.rule, service, ...pseudonyms, ...event.details };
}
