import { Inject, Injectable } from '@nestjs/common';

import type { Role } from '@nest-hardening/auth';
import { SecurityEvents } from '@nest-hardening/security-events';

import { RefreshMetrics } from './refresh-metrics';
import { isRefreshTokenUserId, RefreshTokenCodec } from './refresh-token.codec';
import { SessionFingerprinter } from './session-fingerprint';
import type { ClientContext, IssuedSession } from './session.interface';
import { SessionStore } from './session.store';
import { checkSessionsOptions } from './sessions-options.check';
import { InvalidRefreshTokenError } from './sessions.errors';
import { SESSIONS_MODULE_OPTIONS, type SessionsModuleOptions } from './sessions.module-definition';

export type RefreshOutcome = 'rotated' | 'grace';

/** Secrets shorter than this are refused at start-up: an empty HMAC key would make refresh tokens forgeable. */
const MIN_SECRET_LENGTH = 32;

function requireSecret(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) {
    throw new Error(`SessionsModule: ${name} must be at least ${MIN_SECRET_LENGTH} characters`);
  }
}

/**
 * Issues sessions at login and rotates their refresh tokens (RFC 9700 section 4.14.2): every
 * refresh returns a new token and retires the presented one; presenting a retired token again
 * (outside a short grace window for concurrent tabs) ends the whole session.
 */
@Injectable()
export class RefreshRotationService {
  private readonly codec: RefreshTokenCodec;
  private readonly fingerprinter: SessionFingerprinter;

  constructor(
    @Inject(SESSIONS_MODULE_OPTIONS) private readonly options: SessionsModuleOptions,
    private readonly store: SessionStore,
    private readonly events: SecurityEvents,
    private readonly metrics: RefreshMetrics,
  ) {
    checkSessionsOptions(options);
    requireSecret('refreshTokenSecret', options.refreshTokenSecret);
    requireSecret('fingerprintSecret', options.fingerprintSecret);
    if (options.previousRefreshTokenSecret !== undefined) requireSecret('previousRefreshTokenSecret', options.previousRefreshTokenSecret);
    if (options.previousFingerprintSecret !== undefined) requireSecret('previousFingerprintSecret', options.previousFingerprintSecret);
    this.codec = new RefreshTokenCodec(options.refreshTokenSecret, options.previousRefreshTokenSecret);
    this.fingerprinter = new SessionFingerprinter(
      options.fingerprintSecret,
      options.fingerprint.ipv4PrefixBits,
      options.fingerprint.ipv6PrefixBits,
      options.previousFingerprintSecret,
    );
  }

  /**
   * Starts a session for a user who just proved who they are. `authVersion` is the user's
   * authorization version read together with the credentials and role that were checked: if it has
   * moved on since (a password or role change, an account disabled), no session is created and
   * {@link StaleAuthorizationError} is thrown.
   */
  async issue(userId: string, role: Role, client: ClientContext, authVersion: number): Promise<IssuedSession> {
    // Checked before anything is stored: a session whose refresh token can never be read back would
    // be live, listed and counted against the cap, and its user logged out at the first refresh.
    if (!isRefreshTokenUserId(userId)) {
      throw new Error('RefreshRotationService.issue: userId must be a lower-case UUID (the form refresh tokens carry)');
    }
    const { session, evicted } = await this.store.create({
      userId,
      role,
      client,
      fingerprint: this.fingerprinter.fingerprint(client),
      idleTtlMs: this.options.idleTtlMs,
      absoluteTtlMs: this.options.absoluteTtlMs,
      maxSessions: this.options.maxSessionsPerUser,
      authVersion,
    });
    if (evicted.length > 0) {
      this.events.emit({
        type: 'session_cap_evicted',
        severity: 'info',
        details: { userId, evicted: evicted.length, cap: this.options.maxSessionsPerUser },
      });
    }
    return {
      userId,
      sessionId: session.id,
      role,
      refreshToken: this.codec.encode({ userId, sessionId: session.id, generation: 0 }),
      expiresAt: session.expiresAt,
    };
  }

  /**
   * Exchanges a refresh token for its successor. One Redis round trip: the whole check-and-rotate
   * is one script. Throws {@link InvalidRefreshTokenError} for anything but a current token (or a
   * just-rotated one inside the grace window).
   */
  async refresh(refreshToken: unknown, client: ClientContext): Promise<IssuedSession & { outcome: RefreshOutcome }> {
    const parts = this.codec.decode(refreshToken);
    if (!parts) {
      this.metrics.outcomes.malformed++;
      throw new InvalidRefreshTokenError();
    }
    const { fingerprint: policy } = this.options;
    const result = await this.store.rotate({
      userId: parts.userId,
      sessionId: parts.sessionId,
      presentedGeneration: parts.generation,
      fingerprint: this.fingerprinter.fingerprint(client),
      previousFingerprint: this.fingerprinter.previousFingerprint(client),
      graceMs: this.options.reuseGraceMs,
      idleTtlMs: this.options.idleTtlMs,
      userAgentPolicy: policy.userAgent,
      ipPolicy: policy.ip,
    });
    this.metrics.outcomes[result.outcome]++;
    const context = { userId: parts.userId, sessionId: parts.sessionId };

    if (result.outcome === 'reuse') {
      this.events.emit({
        type: 'refresh_token_reuse',
        severity: 'critical',
        details: { ...context, presentedGeneration: parts.generation, currentGeneration: result.generation },
        pseudonymous: { ip: client.ip },
      });
      throw new InvalidRefreshTokenError();
    }
    const mismatch = (result.userAgentMismatch && policy.userAgent !== 'off') || (result.ipMismatch && policy.ip !== 'off');
    if (mismatch) {
      this.events.emit({
        type: 'fingerprint_mismatch',
        severity: result.outcome === 'fingerprint' ? 'critical' : 'warning',
        rule: result.outcome === 'fingerprint' ? 'revoked' : 'logged',
        details: { ...context, userAgentChanged: result.userAgentMismatch, networkChanged: result.ipMismatch },
        pseudonymous: { ip: client.ip },
      });
    }
    if (result.outcome !== 'rotated' && result.outcome !== 'grace') throw new InvalidRefreshTokenError();

    return {
      outcome: result.outcome,
      userId: parts.userId,
      sessionId: parts.sessionId,
      role: result.role,
      refreshToken: this.codec.encode({ ...parts, generation: result.generation }),
      expiresAt: result.expiresAt,
    };
  }
}
