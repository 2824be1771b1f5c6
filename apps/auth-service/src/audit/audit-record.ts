import { networkPrefix } from '@nest-hardening/client-ip';
import type { SecurityEvent } from '@nest-hardening/security-events';
import { deviceLabel } from '@nest-hardening/sessions';

/** One security event as the audit trail stores it, before its account is resolved from an email. */
export interface AuditRecord {
  at: Date;
  type: string;
  accountId: string | null;
  /** A normalised email whose account is looked up when the record is written; never stored. */
  email?: string;
  actorId: string | null;
  /** The client's /24 (IPv4) or /48 (IPv6) network: enough to recognise a place, never the address. */
  network: string | null;
  device: string | null;
  details: Record<string, string | number | boolean | null>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Ids have columns of their own; everything else in `details` is kept as context.
const ID_FIELDS = new Set(['userId', 'accountId', 'adminId']);

/** The display form of an address kept in the audit trail and shown to admins and users. */
export function displayNetwork(ip: string): string {
  return networkPrefix(ip, 24, 48);
}

/** Reduces an emitted event to what the audit trail may keep: ids, a network, a device label, context. */
export function toAuditRecord(event: SecurityEvent, at: Date): AuditRecord {
  const details: AuditRecord['details'] = {};
  for (const [key, value] of Object.entries(event.details ?? {})) {
    if (value !== undefined && !ID_FIELDS.has(key)) details[key] = value;
  }
  if (event.rule) details.rule = event.rule;
  const uuid = (value: unknown) => (typeof value === 'string' && UUID.test(value) ? value : null);
  const { ip, userAgent, email } = event.pseudonymous ?? {};
  return {
    at,
    type: event.type,
    accountId: uuid(event.details?.userId) ?? uuid(event.details?.accountId),
    email,
    actorId: uuid(event.details?.adminId),
    network: ip ? displayNetwork(ip) : null,
    device: userAgent !== undefined ? deviceLabel(userAgent) : null,
    details,
  };
}
