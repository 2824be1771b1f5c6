import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Role } from '@nest-hardening/auth';
import { InjectRedis, REDIS_MODULE_OPTIONS, redisCall, type RedisClient, type RedisModuleOptions } from '@nest-hardening/redis';
import { deviceLabel } from './device-label';
import { ADVANCE_AUTH_VERSION_SCRIPT } from './scripts/advance-auth-version.script';
import { CREATE_SESSION_SCRIPT } from './scripts/create-session.script';
import { LIST_SESSIONS_SCRIPT } from './scripts/list-sessions.script';
import { LOGOUT_SCRIPT } from './scripts/logout.script';
import { RESERVE_CREDENTIAL_CHECK_SCRIPT } from './scripts/reserve-credential-check.script';
import { REVOKE_SESSIONS_SCRIPT } from './scripts/revoke-sessions.script';
import { ROTATE_REFRESH_TOKEN_SCRIPT } from './scripts/rotate-refresh-token.script';
import type { SessionFingerprint } from './session-fingerprint';
import type { ClientContext, Session } from './session.interface';
import { StaleAuthorizationError } from './sessions.errors';
import { SessionFields as F, sessionsKeys } from './sessions.keys';

export interface NewSession {
  userId: string;
  role: Role;
  client: ClientContext;
  fingerprint: SessionFingerprint;
  idleTtlMs: number;
  absoluteTtlMs: number;
  maxSessions: number;
  /** The user's authorization version as read together with the credentials that were checked. */
  authVersion: number;
}

export type RotationOutcome = 'rotated' | 'grace' | 'reuse' | 'fingerprint' | 'invalid';

export interface RotationResult {
  outcome: RotationOutcome;
  /** The generation that is current after the call (the successor's, for 'rotated' and 'grace'). */
  generation: number;
  expiresAt: Date;
  role: Role;
  userAgentMismatch: boolean;
  ipMismatch: boolean;
}

export interface RotationRequest {
  userId: string;
  sessionId: string;
  presentedGeneration: number;
  fingerprint: SessionFingerprint;
  /** The fingerprint under the previous secret during a rotation: it matches too, and is replaced by the current one. */
  previousFingerprint?: SessionFingerprint;
  graceMs: number;
  idleTtlMs: number;
  userAgentPolicy: string;
  ipPolicy: string;
}

/** Redis repository of sessions: every read and write of session state goes through here. */
@Injectable()
export class SessionStore {
  private readonly channel: string;

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    @Inject(REDIS_MODULE_OPTIONS) redisOptions: RedisModuleOptions,
  ) {
    this.channel = sessionsKeys.revocationChannel(redisOptions.keyPrefix);
  }

  /** Throws {@link StaleAuthorizationError} when the user's authorization version moved past `authVersion`. */
  async create(input: NewSession): Promise<{ session: Session; evicted: string[] }> {
    const sessionId = randomBytes(16).toString('base64url');
    const { userId, role, client, fingerprint } = input;
    const device = deviceLabel(client.userAgent);
    const reply = await CREATE_SESSION_SCRIPT.run<[number, number, number, ...string[]]>(
      this.redis,
      [sessionsKeys.session(userId, sessionId), sessionsKeys.index(userId), sessionsKeys.authVersion(userId)],
      [
        sessionId,
        userId,
        role,
        input.idleTtlMs,
        input.absoluteTtlMs,
        client.ip,
        device,
        fingerprint.userAgent,
        fingerprint.ip,
        input.maxSessions,
        this.channel,
        input.authVersion,
      ],
    );
    if (Number(reply[0]) === -1) throw new StaleAuthorizationError();
    const [createdAt, expiresAt, absoluteExpiresAt, ...evicted] = reply;
    return {
      session: {
        id: sessionId,
        userId,
        role,
        createdAt: new Date(Number(createdAt)),
        lastSeenAt: new Date(Number(createdAt)),
        expiresAt: new Date(Number(expiresAt)),
        absoluteExpiresAt: new Date(Number(absoluteExpiresAt)),
        ip: client.ip,
        device,
      },
      evicted: evicted.map(String),
    };
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const [outcome, generation, expiresAt, role, uaMismatch, ipMismatch] = await ROTATE_REFRESH_TOKEN_SCRIPT.run<
      [RotationOutcome, number, number, Role, number, number]
    >(
      this.redis,
      [sessionsKeys.session(request.userId, request.sessionId), sessionsKeys.index(request.userId), sessionsKeys.authVersion(request.userId)],
      [
        request.sessionId,
        request.presentedGeneration,
        request.graceMs,
        request.idleTtlMs,
        request.fingerprint.userAgent,
        request.fingerprint.ip,
        request.userAgentPolicy,
        request.ipPolicy,
        this.channel,
        request.previousFingerprint?.userAgent ?? '',
        request.previousFingerprint?.ip ?? '',
      ],
    );
    return {
      outcome,
      generation: Number(generation),
      expiresAt: new Date(Number(expiresAt)),
      role,
      userAgentMismatch: Number(uaMismatch) === 1,
      ipMismatch: Number(ipMismatch) === 1,
    };
  }

  async list(userId: string): Promise<Session[]> {
    const flat = await LIST_SESSIONS_SCRIPT.run<(string | string[])[]>(this.redis, [sessionsKeys.index(userId)], []);
    const sessions: Session[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const fields = flat[i + 1] as string[];
      const map = new Map<string, string>();
      for (let j = 0; j < fields.length; j += 2) map.set(fields[j], fields[j + 1]);
      sessions.push(toSession(flat[i] as string, map));
    }
    return sessions;
  }

  /** Ends one session of the user; returns false when the user has no such session. */
  async revoke(userId: string, sessionId: string): Promise<boolean> {
    return (await this.revokeSessions(userId, 'one', sessionId)).length === 1;
  }

  /** Ends every session of the user except `keepSessionId`; returns the ids ended. */
  revokeOthers(userId: string, keepSessionId: string): Promise<string[]> {
    return this.revokeSessions(userId, 'others', keepSessionId);
  }

  /** Ends every session of the user; returns the ids ended. */
  revokeAll(userId: string): Promise<string[]> {
    return this.revokeSessions(userId, 'all', '');
  }

  /**
   * Publishes the user's new authorization version (from the database) and ends every session
   * created under an older one, except `keepSessionId` (moved to the new version). Returns the ids ended.
   */
  async advanceAuthVersion(userId: string, version: number, keepSessionId?: string): Promise<string[]> {
    const ended = await ADVANCE_AUTH_VERSION_SCRIPT.run<string[]>(
      this.redis,
      [sessionsKeys.index(userId), sessionsKeys.authVersion(userId)],
      [version, keepSessionId ?? '', this.channel],
    );
    return ended.map(String);
  }

  /**
   * Counts a current-password check made with the session before the password is verified.
   * Returns the check's number (1..max), 0 when the session had none left (it has been ended), or
   * -1 when the session does not exist.
   */
  reserveCredentialCheck(userId: string, sessionId: string, maxChecks: number): Promise<number> {
    return RESERVE_CREDENTIAL_CHECK_SCRIPT.run<number>(
      this.redis,
      [sessionsKeys.session(userId, sessionId), sessionsKeys.index(userId)],
      [sessionId, maxChecks, this.channel],
    );
  }

  /** A current-password check succeeded: the session's count starts again. */
  async resetCredentialChecks(userId: string, sessionId: string): Promise<void> {
    await redisCall(this.redis.hdel(sessionsKeys.session(userId, sessionId), F.credentialChecks));
  }

  /**
   * Ends the session and denylists the access token used, in one round trip; false when the token
   * was no longer live (its session had ended, or it was denylisted).
   */
  async logout(userId: string, sessionId: string, jti: string, tokenExpiresAtSeconds: number): Promise<boolean> {
    const live = await LOGOUT_SCRIPT.run<number>(
      this.redis,
      [sessionsKeys.session(userId, sessionId), sessionsKeys.index(userId), sessionsKeys.deniedToken(userId, jti)],
      [sessionId, jti, tokenExpiresAtSeconds * 1000 - Date.now(), this.channel],
    );
    return live === 1;
  }

  private async revokeSessions(userId: string, mode: 'one' | 'others' | 'all', sessionId: string): Promise<string[]> {
    const ended = await REVOKE_SESSIONS_SCRIPT.run<string[]>(this.redis, [sessionsKeys.index(userId)], [mode, sessionId, this.channel]);
    return ended.map(String);
  }
}

function toSession(id: string, f: Map<string, string>): Session {
  const ms = (field: string) => new Date(Number(f.get(field) ?? 0));
  return {
    id,
    userId: f.get(F.userId) ?? '',
    role: (f.get(F.role) as Role) ?? 'user',
    createdAt: ms(F.createdAt),
    lastSeenAt: ms(F.lastSeenAt),
    expiresAt: ms(F.expiresAt),
    absoluteExpiresAt: ms(F.absoluteExpiresAt),
    ip: f.get(F.ip) ?? '',
    // Sessions created before the label was stored hold the raw user agent instead.
    device: f.get(F.device) ?? deviceLabel(f.get(F.legacyUserAgent) ?? ''),
  };
}
