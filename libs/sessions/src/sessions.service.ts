import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

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
  /** The version the kept session's credential check read: it stays only if it is still at that version (or newer). */
  keepFrom?: number;
  actorId?: string;
}

/** First wait before an authorization change the store refused is published again; it doubles up to the cap. */
const REPUBLISH_FIRST_MS = 250;
const REPUBLISH_MAX_MS = 5000;

/** Session management for users and admins: list, end one, end the others, end all. */
@Injectable()
export class SessionsService implements OnModuleDestroy {
  private readonly logger = new Logger(SessionsService.name);
  /** Authorization changes the store did not take, by user: the latest one, published again until it is. */
  private readonly unpublished = new Map<string, { version: number; change: AuthorizationChange }>();
  private republishTimer?: NodeJS.Timeout;
  private republishDelayMs = REPUBLISH_FIRST_MS;

  constructor(
    private readonly store: SessionStore,
    private readonly events: SecurityEvents,
  ) {}

  onModuleDestroy(): void {
    clearTimeout(this.republishTimer);
  }

  /** The user's live sessions, most recently active first. */
  async list(userId: string): Promise<Session[]> {
    const sessions = await this.store.list(userId);
    return sessions.sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
  }

  async revoke(userId: string, sessionId: string): Promise<void> {
    if (!(await this.store.revoke(userId, sessionId))) throw new SessionNotFoundError();
    this.events.emit({ type: 'session_revoked', severity: 'info', details: { userId, sessionId, reason: 'user' } });
  }

  /**
   * "Log out other devices": ends every session but the caller's own, only while the caller's own is
   * live (otherwise 401, as for any request of an ended session).
   */
  async revokeOthers(user: AuthenticatedUser): Promise<number> {
    const ended = await this.store.revokeOthers(user.id, user.sessionId);
    if (!ended) throw new InvalidAccessTokenError();
    this.events.emit({ type: 'sessions_revoked', severity: 'info', details: { userId: user.id, count: ended.length, reason: 'user' } });
    return ended.length;
  }

  /**
   * The user's authorization changed (password, role or status, or an admin ended every session):
   * publishes `version`, the user's new authorization version from the database, and ends every
   * session created under an older one but `keepSessionId`, before the caller answers. A login that
   * read the credentials before the change can no longer create a session (ASVS 5.0 7.4.3).
   *
   * When the store fails (Redis unavailable), the error is thrown as it is, and the change, already
   * in the database, is published again in the background until the store takes it: otherwise the
   * other sessions would outlive a change the caller could not repeat (the password is changed).
   */
  async endForAuthorizationChange(userId: string, version: number, change: AuthorizationChange): Promise<number> {
    let ended: string[];
    try {
      ended = await this.store.advanceAuthVersion(userId, version, change.keepSessionId, change.keepFrom);
    } catch (error) {
      this.publishLater(userId, version, change);
      throw error;
    }
    const waiting = this.unpublished.get(userId);
    if (waiting && waiting.version <= version) this.unpublished.delete(userId);
    this.reportEnded(userId, ended, change);
    return ended.length;
  }

  private reportEnded(userId: string, ended: string[], change: AuthorizationChange): void {
    this.events.emit({
      type: 'sessions_revoked',
      severity: change.actorId ? 'warning' : 'info',
      details: { userId, count: ended.length, reason: change.reason, adminId: change.actorId },
    });
  }

  /** Keeps the latest change per user: publishing it ends whatever an earlier one would have ended. */
  private publishLater(userId: string, version: number, change: AuthorizationChange): void {
    const waiting = this.unpublished.get(userId);
    if (!waiting || waiting.version <= version) this.unpublished.set(userId, { version, change });
    this.logger.warn(`authorization change of a user not published (session store unavailable): retrying until it is`);
    this.scheduleRepublish();
  }

  private scheduleRepublish(): void {
    if (this.republishTimer) return;
    this.republishTimer = setTimeout(() => {
      this.republishTimer = undefined;
      void this.republish();
    }, this.republishDelayMs);
    this.republishTimer.unref();
  }

  private async republish(): Promise<void> {
    for (const [userId, { version, change }] of [...this.unpublished]) {
      try {
        const ended = await this.store.advanceAuthVersion(userId, version, change.keepSessionId, change.keepFrom);
        if (this.unpublished.get(userId)?.version === version) this.unpublished.delete(userId);
        this.reportEnded(userId, ended, change);
      } catch {
        this.republishDelayMs = Math.min(this.republishDelayMs * 2, REPUBLISH_MAX_MS);
        this.scheduleRepublish();
        return;
      }
    }
    this.republishDelayMs = REPUBLISH_FIRST_MS;
    if (this.unpublished.size > 0) this.scheduleRepublish();
  }

  /**
   * Logout: ends the caller's session and denylists the very token used, in one round trip, which
   * also checks that the token is live (the route is `@SessionCheckedByHandler()`): a token whose
   * session had already ended is refused.
   */
  async logout(user: AuthenticatedUser): Promise<void> {
    if (!(await this.store.logout(user.id, user.sessionId, user.jti, user.exp))) throw new InvalidAccessTokenError();
  }
}
