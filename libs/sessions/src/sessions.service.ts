import { Injectable } from '@nestjs/common';

import { InvalidAccessTokenError, type AuthenticatedUser } from '@nest-hardening/auth';
import { SecurityEvents } from '@nest-hardening/security-events';

import type { Session } from './session.interface';
import { SessionStore } from './session.store';
import { SessionNotFoundError } from './sessions.errors';

/** Why the sessions of a user end on an authorization change, and who asked (an admin's id). */
export interface AuthorizationChange {
  reason: 'password_change' | 'role_change' | 'status_change' | 'admin';
  /** The session that stays (the one that changed the password), moved to the new version. */
  keepSessionId?: string;
  actorId?: string;
}

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

  /** "Log out other devices": ends every session but the caller's own. */
  async revokeOthers(user: AuthenticatedUser): Promise<number> {
    const ended = await this.store.revokeOthers(user.id, user.sessionId);
    this.events.emit({ type: 'sessions_revoked', severity: 'info', details: { userId: user.id, count: ended.length, reason: 'user' } });
    return ended.length;
  }

  /**
   * The user's authorization changed (password, role or status, or an admin ended every session):
   * publishes `version`, the user's new authorization version from the database, and ends every
   * session created under an older one but `keepSessionId`, before the caller answers. A login that
   * read the credentials before the change can no longer create a session (ASVS 5.0 7.4.3).
   */
  async endForAuthorizationChange(userId: string, version: number, change: AuthorizationChange): Promise<number> {
    const ended = await this.store.advanceAuthVersion(userId, version, change.keepSessionId);
    this.events.emit({
      type: 'sessions_revoked',
      severity: change.actorId ? 'warning' : 'info',
      details: { userId, count: ended.length, reason: change.reason, adminId: change.actorId },
    });
    return ended.length;
  }

  /** Logout: ends the session and denylists the very token used, for defence in depth. */
  /**
   * Ends the caller's session in one round trip, which also checks that the token is live (the
   * route is `@SessionCheckedByHandler()`): a token whose session had already ended is refused.
   */
  async logout(user: AuthenticatedUser): Promise<void> {
    if (!(await this.store.logout(user.id, user.sessionId, user.jti, user.exp))) throw new InvalidAccessTokenError();
  }
}
