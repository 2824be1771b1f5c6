import { Inject, Injectable } from '@nestjs/common';

import type { AuthenticatedUser } from '@nest-hardening/auth';
import { InvalidCredentialsError, LockoutService, type LoginAttempt } from '@nest-hardening/lockout';
import { SecurityEvents } from '@nest-hardening/security-events';
import {
  RefreshRotationService,
  SessionsService,
  SessionStore,
  StaleAuthorizationError,
  type ClientContext,
  type IssuedSession,
} from '@nest-hardening/sessions';

import { normalizeEmail } from '../accounts/account-email';
import { AccountDisabledError } from '../accounts/accounts.errors';
import { AccountsService } from '../accounts/accounts.service';
import { PasswordHasher } from '../accounts/password-hasher';
import { UsersRepository, type UserRow } from '../accounts/users.repository';
import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';
import { AccessTokenIssuer } from '../keys/access-token.issuer';
import { PasswordPolicy } from '../passwords/password-policy.service';
import type { TokenPairDto } from './auth.dto';
import { CredentialChecksExhaustedError } from './auth.errors';

/**
 * Login, refresh, logout and password change: the credential flows of auth-service. The handlers
 * that check a password are `@LockoutProtected()`: an {@link InvalidCredentialsError} thrown here
 * is what counts as a failed attempt.
 */
@Injectable()
export class AuthService {
  constructor(
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly users: UsersRepository,
    private readonly accounts: AccountsService,
    private readonly hasher: PasswordHasher,
    private readonly rotation: RefreshRotationService,
    private readonly sessions: SessionsService,
    private readonly sessionStore: SessionStore,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly lockout: LockoutService,
    private readonly events: SecurityEvents,
    private readonly passwordPolicy: PasswordPolicy,
  ) {}

  /**
   * Password login. The session is created under the authorization version read with the password
   * hash: if the password, role or status changed meanwhile, the login fails like a wrong password.
   * The lockout learns of the right password in the same Redis round trip as the session is
   * created (the two writes are sent together), so lockout and session cost two round trips in all:
   * the reservation before the verification, and this one (docs/decisions/005-login-round-trips.md).
   */
  async login(email: string, password: string, client: ClientContext, attempt: LoginAttempt): Promise<TokenPairDto> {
    const user = await this.verifyCredentials(email, password, client);
    const settlement = attempt.succeeded();
    try {
      const pair = await this.startSession(user, client);
      this.events.emit({
        type: 'login_succeeded',
        severity: 'info',
        auditOnly: true,
        pseudonymous: { ip: client.ip, userAgent: client.userAgent },
        details: { userId: user.id },
      });
      return pair;
    } catch (error) {
      // The password, role or status changed meanwhile: the login fails like a wrong password (the
      // lockout has counted it as right, which it was when checked, as for a login a moment earlier).
      // If the password was replaced, its address must not stay known for it: a password change
      // forgot every known address. After a role change or an admin ending every session the
      // password is still the current one, and so is the address's claim to be known.
      if (error instanceof StaleAuthorizationError) {
        await settlement;
        if (await this.passwordReplaced(user)) await attempt.superseded();
        throw new InvalidCredentialsError();
      }
      throw error;
    } finally {
      // Settled (or known to have failed) before the lockout interceptor looks at the attempt.
      await settlement;
    }
  }

  /**
   * Checks the password (against a dummy hash for unknown emails, so both take the same time).
   * Unknown email and wrong password raise the same error; a disabled account is refused only
   * after its right password. A failure goes to the audit trail with the address's lockout name,
   * so admins can see where an account's failures came from.
   */
  private async verifyCredentials(email: string, password: string, client: ClientContext): Promise<UserRow> {
    const normalized = normalizeEmail(email);
    const user = await this.users.findByEmail(normalized);
    const ok = await this.hasher.verifyOrDummy(user?.password_hash, password);
    if (!user || !ok) {
      this.events.emit({
        type: 'login_failed',
        severity: 'info',
        auditOnly: true,
        pseudonymous: { email: normalized, ip: client.ip, userAgent: client.userAgent },
        details: { accountId: user?.id, address: this.lockout.addressId(client.ip) },
      });
      throw new InvalidCredentialsError();
    }
    if (user.status !== 'active') {
      // Someone holds the password of a disabled account: a refused access the audit trail must show.
      this.events.emit({
        type: 'login_refused',
        severity: 'warning',
        rule: 'account_disabled',
        pseudonymous: { ip: client.ip, userAgent: client.userAgent },
        details: { userId: user.id },
      });
      throw new AccountDisabledError();
    }
    return user;
  }

  /** Whether the account no longer has the password hash `user` was read with (true when that cannot be read). */
  private async passwordReplaced(user: UserRow): Promise<boolean> {
    const current = await this.users.findById(user.id).catch(() => undefined);
    return current?.password_hash !== user.password_hash;
  }

  async startSession(user: UserRow, client: ClientContext): Promise<TokenPairDto> {
    return this.tokenPair(await this.rotation.issue(user.id, user.role, client, user.auth_version));
  }

  async refresh(refreshToken: string, client: ClientContext): Promise<TokenPairDto> {
    return this.tokenPair(await this.rotation.refresh(refreshToken, client));
  }

  logout(user: AuthenticatedUser): Promise<void> {
    return this.sessions.logout(user);
  }

  /**
   * Changes the password after checking the current one, which counts like a login attempt (the
   * route is `@LockoutProtected('current-user')`) and, per session, ends the session once it has
   * guessed wrong too often. Every other session ends before the response (ASVS 5.0 7.4.3), and so
   * does any login still in flight with the old password (it read the old authorization version).
   */
  async changePassword(user: AuthenticatedUser, currentPassword: string, newPassword: string, client: ClientContext): Promise<void> {
    const account = await this.accounts.getOrFail(user.id);
    // Disabled while this session's end is still being published: it changes nothing any more.
    if (account.status !== 'active') throw new AccountDisabledError();
    // A refused new password costs no verification and no check of the session's allowance.
    await this.passwordPolicy.assertAcceptable(newPassword, { email: account.email, currentPassword });
    const check = await this.reserveCredentialCheck(user);
    if (!(await this.hasher.verifyOrDummy(account.password_hash, currentPassword))) {
      await this.recordWrongCurrentPassword(user, check);
      throw new InvalidCredentialsError();
    }
    await this.sessionStore.resetCredentialChecks(user.id, user.sessionId);
    const version = await this.users.updatePassword(user.id, await this.hasher.hash(newPassword), account.auth_version);
    // The account changed since it was read (another password change that checked the same
    // password, a role or status change): refused like a wrong password, never applied over it.
    if (version === undefined) throw new InvalidCredentialsError();
    // Recorded once committed: the password is changed even if ending the other sessions below
    // fails (answered 503, the end is retried), and the audit trail must show every change.
    this.events.emit({
      type: 'password_changed',
      severity: 'info',
      pseudonymous: { ip: client.ip, userAgent: client.userAgent },
      details: { userId: user.id, sessionId: user.sessionId },
    });
    await this.sessions.endForAuthorizationChange(user.id, version, {
      reason: 'password_change',
      keepSessionId: user.sessionId,
      keepFrom: account.auth_version,
    });
    await this.lockout.resetAfterPasswordChange(account.email, user.id);
  }

  /**
   * Counts the check against the session before the password is verified (reserve, then verify),
   * so concurrent guesses cannot verify more than the session's allowance. Returns the check's number.
   */
  private async reserveCredentialCheck(user: AuthenticatedUser): Promise<number> {
    const max = this.config.PASSWORD_CHANGE_MAX_FAILURES;
    const check = await this.sessionStore.reserveCredentialCheck(user.id, user.sessionId, max);
    if (check > 0) return check;
    // 0 answers only the check that found the allowance spent and ended the session: concurrent
    // guesses end it here, before the last allowed one is verified (whose own end then finds nothing).
    if (check === 0) this.reportGuessing(user, max + 1);
    throw new CredentialChecksExhaustedError();
  }

  /** The session's last allowed check failed: the session ends (a stolen token cannot keep guessing). */
  private async recordWrongCurrentPassword(user: AuthenticatedUser, check: number): Promise<void> {
    const max = this.config.PASSWORD_CHANGE_MAX_FAILURES;
    if (check >= max && (await this.sessionStore.revoke(user.id, user.sessionId))) return this.reportGuessing(user, check);
    this.events.emit({
      type: 'password_change_failed',
      severity: 'warning',
      details: { userId: user.id, sessionId: user.sessionId, failures: check, maxFailures: max },
    });
  }

  /** The session used up its current-password checks and has been ended; `checks` counts those made. */
  private reportGuessing(user: AuthenticatedUser, checks: number): void {
    this.events.emit({
      type: 'password_change_guessing',
      severity: 'critical',
      rule: 'session_ended',
      details: { userId: user.id, sessionId: user.sessionId, failures: checks, maxFailures: this.config.PASSWORD_CHANGE_MAX_FAILURES },
    });
  }

  private tokenPair(session: IssuedSession): TokenPairDto {
    return {
      accessToken: this.accessTokens.issue(session.userId, session.sessionId, session.role),
      refreshToken: session.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.accessTokens.ttlSeconds,
    };
  }
}
