import { Injectable } from '@nestjs/common';

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
  ) {}

  async forAdmin(accountId: string, query: EventPageQuery): Promise<SecurityEventPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    await this.trail.flush();
    const rows = await this.repository.listForAccount(accountId, { before: query.cursor, limit });
    return { items: rows.map(mapSecurityEvent), nextCursor: rows.length === limit ? String(rows[rows.length - 1].id) : null };
  }

  async forUser(userId: string, query: EventPageQuery): Promise<ActivityPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    await this.trail.flush();
    const rows = await this.repository.listForAccount(userId, { before: query.cursor, limit, types: USER_VISIBLE });
    return { items: rows.map(mapActivity), nextCursor: rows.length === limit ? String(rows[rows.length - 1].id) : null };
  }
}
