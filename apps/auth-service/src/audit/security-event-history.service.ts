import { Injectable } from '@nestjs/common';

import { SecurityEvents } from '@nest-hardening/security-events';
import type { ClientContext } from '@nest-hardening/sessions';

import { DEFAULT_PAGE_LIMIT } from '../paging/page-limit.decorator';
import { AuditTrail } from './audit-trail';
import type { EventPageQuery } from './event-page.query';
import { ActivityPageDto, mapActivity, mapSecurityEvent, SecurityEventPageDto } from './security-event.dto';
import { SecurityEventsRepository } from './security-events.repository';

/** What a user may see of their own account: sign-ins, password changes, sessions ended, locks. */
const USER_VISIBLE = [
  'login_succeeded',
  'password_changed',
  'session_revoked',
  'sessions_revoked',
  'refresh_token_reuse',
  'account_locked',
  'account_lock_email_ceiling',
  'account_unlocked',
  'account_role_changed',
  'account_status_changed',
] as const;

/** Reads the audit trail for admins (any account, every event) and for users (their own, a chosen few). */
@Injectable()
export class SecurityEventHistory {
  constructor(
    private readonly repository: SecurityEventsRepository,
    private readonly trail: AuditTrail,
    private readonly events: SecurityEvents,
  ) {}

  /**
   * An account's events for an admin. Each page read is itself recorded (`audit_trail_read`, on the
   * account read, with the admin and where they read from): access to audit logs must be traceable.
   */
  async forAdmin(
    accountId: string,
    query: EventPageQuery,
    reader: { adminId: string; client: ClientContext },
  ): Promise<SecurityEventPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    await this.trail.flush();
    const rows = await this.repository.listForAccount(accountId, { before: query.cursor, limit });
    this.events.emit({
      type: 'audit_trail_read',
      severity: 'info',
      auditOnly: true,
      pseudonymous: { ip: reader.client.ip, userAgent: reader.client.userAgent },
      details: { accountId, adminId: reader.adminId, cursor: query.cursor ?? null, count: rows.length },
    });
    return { items: rows.map(mapSecurityEvent), nextCursor: rows.length === limit ? String(rows[rows.length - 1].id) : null };
  }

  async forUser(userId: string, query: EventPageQuery): Promise<ActivityPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    await this.trail.flush();
    const rows = await this.repository.listForAccount(userId, { before: query.cursor, limit, types: USER_VISIBLE });
    return { items: rows.map(mapActivity), nextCursor: rows.length === limit ? String(rows[rows.length - 1].id) : null };
  }
}
