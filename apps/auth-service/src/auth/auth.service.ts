import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser, Role } from '@lib/auth';
import { LockoutService, type LockoutReservation } from '@lib/lockout';
import { type ClientContext, type IssuedSession, RefreshRotationService, SessionsService } from '@lib/sessions';
import { InvalidCredentialsError } from '../accounts/accounts.errors';
import { normalizeLoginEmail as normalizeEmail } from '@lib/lockout';
import { PasswordHasher } from '../accounts/password-hasher';
import { UsersRepository } from '../accounts/users.repository';
import { PasswordPolicy } from '../passwords/password-policy.service';
import { AccessTokenIssuer } from '../keys/access-token.issuer';
import type { TokenPairDto } from './auth.dto';

/** Login, refresh, logout and password change: the credential flows of auth-service. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly rotation: RefreshRotationService,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly lockout: LockoutService,
    private readonly passwordPolicy: PasswordPolicy,
  ) {}

  /**
   * Password login, settling the lockout reservation made by the guard: a wrong password (or an
   * unknown email, counted the same way) confirms a failure; a right one gives the attempt back.
   */
  async login(email: string, password: string, client: ClientContext, reservation?: LockoutReservation): Promise<TokenPairDto> {
    let user: { id: string; role: Role };
    try {
      user = await this.verifyCredentials(email, password);
    } catch (error) {
      if (error instanceof InvalidCredentialsError) await this.lockout.recordFailure(reservation);
      throw error;
    }
    await this.lockout.recordSuccess(reservation);
    return this.startSession(user, client);
  }

  /**
   * Checks the password (against a dummy hash for unknown emails, so both take the same time) and
   * returns the user id on success. Unknown email and wrong password raise the same error.
   */
  private async verifyCredentials(email: string, password: string): Promise<{ id: string; role: Role }> {
    const user = await this.users.findByEmail(normalizeEmail(email));
    const ok = await this.hasher.verifyOrDummy(user?.password_hash, password);
    if (!user || !ok) throw new InvalidCredentialsError();
    return { id: user.id, role: user.role };
  }

  async startSession(user: { id: string; role: Role }, client: ClientContext): Promise<TokenPairDto> {
    return this.tokenPair(await this.rotation.issue(user.id, user.role, client));
  }

  async refresh(refreshToken: string, client: ClientContext): Promise<TokenPairDto> {
    return this.tokenPair(await this.rotation.refresh(refreshToken, client));
  }

  logout(user: AuthenticatedUser): Promise<void> {
    return this.sessions.logout(user);
  }

  /** ASVS 7.4.3: after a password change every other session ends, before the response is sent. */
  async changePassword(user: AuthenticatedUser, currentPassword: string, newPassword: string): Promise<void> {
    const row = await this.users.findById(user.id);
    if (!row || !(await this.hasher.verifyOrDummy(row.password_hash, currentPassword))) throw new InvalidCredentialsError();
    await this.passwordPolicy.assertAcceptable(newPassword, { email: row.email, currentPassword });
    await this.users.updatePassword(user.id, await this.hasher.hash(newPassword));
    await this.sessions.revokeOthers(user, 'password_change');
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
