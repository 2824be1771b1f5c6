import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '@lib/auth';
import { SecurityEvents } from '@lib/security-events';
import type { Session } from './session.interface';
import { SessionStore } from './session.store';
import { SessionNotFoundError } from './sessions.errors';

/** Session management for users and admins: list, end one, end the others, end all. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly store: SessionStore,
    private readonly events: SecurityEvents,
  ) {}

  /** The user's live sessions, most recently active first. */
  async list(userId: string): Promise<Session[]> {
    const sessions = await this.store.list(userId);
    return sessions.sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
  }

  async revoke(userId: string, sessionId: string): Promise<void> {
    if (!(await this.store.revoke(userId, sessionId))) throw new SessionNotFoundError();
    this.events.emit({ type: 'session_revoked', severity: 'info', details: { userId, sessionId, reason: 'user' } });
  }

  /** Ends every session but the caller's own (used by "log out other devices" and password changes). */
  async revokeOthers(user: AuthenticatedUser, reason: 'user' | 'password_change'): Promise<number> {
    const ended = await this.store.revokeOthers(user.id, user.sessionId);
    this.events.emit({ type: 'sessions_revoked', severity: 'info', details: { userId: user.id, count: ended.length, reason } });
    return ended.length;
  }

  async revokeAll(userId: string, byAdminId: string): Promise<number> {
    const ended = await this.store.revokeAll(userId);
    this.events.emit({ type: 'sessions_revoked', severity: 'warning', details: { userId, count: ended.length, reason: 'admin', adminId: byAdminId } });
    return ended.length;
  }

  /** Logout: ends the session and denylists the very token used, for defence in depth. */
  async logout(user: AuthenticatedUser): Promise<void> {
    await this.store.revoke(user.id, user.sessionId);
    await this.store.denyAccessToken(user.id, user.jti, user.exp);
  }
}
