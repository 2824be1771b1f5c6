import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

import type { Role } from '@nest-hardening/auth';

import { deviceLabel } from './device-label';
import type { Session } from './session.interface';
import { SessionStore, type NewSession, type RevocationListener, type RotationRequest, type RotationResult } from './session.store';
import { StaleAuthorizationError } from './sessions.errors';

interface StoredSession {
  id: string;
  userId: string;
  role: Role;
  createdAt: number;
  lastSeenAt: number;
  absExp: number;
  /** The session ends at this instant (ms): min(last refresh + idle limit, absExp). */
  exp: number;
  generation: number;
  rotatedAt: number;
  ip: string;
  device: string;
  fpUa: string;
  fpIp: string;
  /** Network fingerprint of the request that made the last rotation; unset before the first. */
  rotIp?: string;
  authVersion: number;
  credentialChecks: number;
}

interface UserState {
  sessions: Map<string, StoredSession>;
  /** Denylisted access tokens: jti → when the entry ends (ms). */
  denied: Map<string, number>;
  /** Never expires (as `{u:<uid>}:authv` in Redis): a session may only be created or refreshed with it. */
  authVersion: number;
}

const REVOKED = 'revoked';

/**
 * Sessions in the memory of one process, with the rules of the Redis scripts (see `scripts/`):
 * idle and absolute lifetime, the per-user cap, rotation with grace window and reuse detection,
 * authorization versions, credential-check counts and the logout denylist. Each method runs
 * synchronously up to its result, so it is as atomic as a script. Revocations are announced to
 * the watchers in the same step, so a `SessionRevocationChecker` of the same app drops its cached
 * answers at once.
 *
 * For an adopter's unit tests only, never production: every instance holds its own sessions, and a
 * restart ends them all. No timers: an expired entry is dropped when its user is next touched, and
 * a sweep over all users runs once as many operations as there are users have passed, so memory
 * stays bounded by the live sessions and tokens.
 */
export class MemorySessionStore extends SessionStore {
  private readonly users = new Map<string, UserState>();
  private readonly announcements = new EventEmitter();
  private operationsSinceSweep = 0;

  constructor(private readonly now: () => number = Date.now) {
    super();
    this.announcements.setMaxListeners(0);
  }

  /** Users with live state (sessions, denylisted tokens or an authorization version). */
  get userCount(): number {
    return this.users.size;
  }

  async create(input: NewSession): Promise<{ session: Session; evicted: string[] }> {
    const now = this.now();
    const user = this.stateForWrite(input.userId, now);
    if (user.authVersion > input.authVersion) throw new StaleAuthorizationError();
    const absExp = now + input.absoluteTtlMs;
    const stored: StoredSession = {
      id: randomBytes(16).toString('base64url'),
      userId: input.userId,
      role: input.role,
      createdAt: now,
      lastSeenAt: now,
      absExp,
      exp: Math.min(now + input.idleTtlMs, absExp),
      generation: 0,
      rotatedAt: 0,
      ip: input.client.ip,
      device: deviceLabel(input.client.userAgent),
      fpUa: input.fingerprint.userAgent,
      fpIp: input.fingerprint.ip,
      authVersion: input.authVersion,
      credentialChecks: 0,
    };
    // Beyond the cap, the other sessions nearest their end (the least recently refreshed) end first;
    // chosen before the new one is added, which may expire first (a lowered idle limit, same-ms logins).
    const evicted = byExpiry(user.sessions)
      .slice(0, Math.max(0, user.sessions.size + 1 - input.maxSessions))
      .map((s) => s.id);
    for (const sid of evicted) this.end(user, sid);
    user.sessions.set(stored.id, stored);
    return { session: toSession(stored), evicted };
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const now = this.now();
    const user = this.state(request.userId, now);
    const s = user?.sessions.get(request.sessionId);
    const refused = (outcome: RotationResult['outcome'], generation: number, role = '', ua = false, ip = false): RotationResult => ({
      outcome,
      generation,
      expiresAt: new Date(0),
      role: role as Role,
      userAgentMismatch: ua,
      ipMismatch: ip,
    });
    if (!user || !s) return refused('invalid', -1);
    if (s.authVersion < user.authVersion) {
      this.end(user, s.id);
      return refused('invalid', s.generation);
    }
    const previousUa = request.previousFingerprint?.userAgent ?? '';
    const previousIp = request.previousFingerprint?.ip ?? '';
    const uaPrevious = s.fpUa === previousUa;
    const ipPrevious = s.fpIp === previousIp;
    const uaMismatch = s.fpUa !== request.fingerprint.userAgent && !uaPrevious;
    const ipMismatch = s.fpIp !== request.fingerprint.ip && !ipPrevious;
    if ((uaMismatch && request.userAgentPolicy === 'strict') || (ipMismatch && request.ipPolicy === 'strict')) {
      this.end(user, s.id);
      return refused('fingerprint', s.generation, s.role, uaMismatch, ipMismatch);
    }
    const result = (outcome: RotationResult['outcome']): RotationResult => ({
      outcome,
      generation: s.generation,
      expiresAt: new Date(s.exp),
      role: s.role,
      userAgentMismatch: uaMismatch,
      ipMismatch,
    });
    if (request.presentedGeneration === s.generation) {
      s.generation++;
      s.rotatedAt = now;
      s.lastSeenAt = now;
      s.exp = Math.min(now + request.idleTtlMs, s.absExp);
      s.rotIp = request.fingerprint.ip;
      if (uaPrevious) s.fpUa = request.fingerprint.userAgent;
      if (ipPrevious) s.fpIp = request.fingerprint.ip;
      return result('rotated');
    }
    // A rotation that recorded no network keeps its grace, as in the script.
    const sameNetwork = request.ipPolicy === 'off' || s.rotIp === undefined || s.rotIp === request.fingerprint.ip || s.rotIp === previousIp;
    if (request.presentedGeneration === s.generation - 1 && request.graceMs > 0 && now - s.rotatedAt <= request.graceMs && sameNetwork) {
      return result('grace');
    }
    if (request.presentedGeneration < s.generation) {
      this.end(user, s.id);
      return refused('reuse', s.generation, s.role, uaMismatch, ipMismatch);
    }
    return refused('invalid', s.generation);
  }

  async list(userId: string): Promise<Session[]> {
    const user = this.state(userId, this.now());
    return user ? byExpiry(user.sessions).map(toSession) : [];
  }

  async revoke(userId: string, sessionId: string): Promise<boolean> {
    const user = this.state(userId, this.now());
    return user !== undefined && this.end(user, sessionId);
  }

  async revokeOthers(userId: string, keepSessionId: string): Promise<string[] | undefined> {
    const user = this.state(userId, this.now());
    return user?.sessions.has(keepSessionId) ? this.endAll(user, keepSessionId) : undefined;
  }

  async revokeAll(userId: string): Promise<string[]> {
    const user = this.state(userId, this.now());
    return user ? this.endAll(user) : [];
  }

  async advanceAuthVersion(userId: string, version: number, keepSessionId?: string, keepFrom = 0): Promise<string[]> {
    const user = this.stateForWrite(userId, this.now());
    // The version never goes down; the kept session takes the published one, as the script does,
    // unless a newer version was published first (a late call moves no session).
    const late = version < user.authVersion;
    if (version > user.authVersion) user.authVersion = version;
    // Kept only if created under the version its credential check read (keepFrom) or a newer one.
    const candidate = keepSessionId ? user.sessions.get(keepSessionId) : undefined;
    const kept = candidate && candidate.authVersion >= keepFrom ? candidate : undefined;
    if (kept && !late) kept.authVersion = user.authVersion;
    // Sessions created under the published version (after the change) stay.
    return this.endAll(user, kept?.id, (s) => s.authVersion < user.authVersion);
  }

  async reserveCredentialCheck(userId: string, sessionId: string, maxChecks: number): Promise<number> {
    const user = this.state(userId, this.now());
    const s = user?.sessions.get(sessionId);
    if (!user || !s) return -1;
    s.credentialChecks++;
    if (s.credentialChecks <= maxChecks) return s.credentialChecks;
    this.end(user, sessionId);
    return 0;
  }

  async resetCredentialChecks(userId: string, sessionId: string): Promise<void> {
    const s = this.state(userId, this.now())?.sessions.get(sessionId);
    if (s) s.credentialChecks = 0;
  }

  async logout(userId: string, sessionId: string, jti: string, tokenExpiresAtSeconds: number): Promise<boolean> {
    const now = this.now();
    const user = this.stateForWrite(userId, now);
    const denied = user.denied.has(jti);
    const ended = this.end(user, sessionId);
    // The entry lives as long as the token would; an expired token needs none.
    const until = tokenExpiresAtSeconds * 1000;
    if (until > now) {
      user.denied.set(jti, until);
      this.announcements.emit(REVOKED, `j:${jti}`);
    }
    return ended && !denied;
  }

  async isActive(userId: string, sessionId: string, jti: string): Promise<boolean> {
    const user = this.state(userId, this.now());
    return user !== undefined && user.sessions.has(sessionId) && !user.denied.has(jti);
  }

  async watchRevocations(listener: RevocationListener): Promise<void> {
    // Delivery is synchronous and cannot be lost, so the feed is up for good.
    this.announcements.on(REVOKED, (message: string) => listener.revoked(message));
  }

  /** The user's state with expired entries dropped, if any; runs the periodic sweep. */
  private state(userId: string, now: number): UserState | undefined {
    if (++this.operationsSinceSweep >= Math.max(100, this.users.size)) this.sweep(now);
    const user = this.users.get(userId);
    if (user) prune(user, now);
    return user;
  }

  /** As `state`, creating it when absent: only calls that store something do (a read never adds a user). */
  private stateForWrite(userId: string, now: number): UserState {
    let user = this.state(userId, now);
    if (!user) this.users.set(userId, (user = { sessions: new Map(), denied: new Map(), authVersion: 0 }));
    return user;
  }

  private sweep(now: number): void {
    this.operationsSinceSweep = 0;
    for (const [userId, user] of this.users) {
      prune(user, now);
      if (user.sessions.size === 0 && user.denied.size === 0 && user.authVersion === 0) this.users.delete(userId);
    }
  }

  /** Ends a live session and announces it; false when there was none. */
  private end(user: UserState, sessionId: string): boolean {
    if (!user.sessions.delete(sessionId)) return false;
    this.announcements.emit(REVOKED, `s:${sessionId}`);
    return true;
  }

  /** Ends every session of the user (that `ends`, if given) but `keepSessionId`, nearest expiry first; returns the ids ended. */
  private endAll(user: UserState, keepSessionId?: string, ends: (s: StoredSession) => boolean = () => true): string[] {
    const ended = byExpiry(user.sessions)
      .filter((s) => s.id !== keepSessionId && ends(s))
      .map((s) => s.id);
    for (const sid of ended) this.end(user, sid);
    return ended;
  }
}

/** Drops the user's expired sessions (`exp` reached) and denylist entries (the token's expiry reached). */
function prune(user: UserState, now: number): void {
  for (const [sid, s] of user.sessions) if (s.exp <= now) user.sessions.delete(sid);
  for (const [jti, until] of user.denied) if (until <= now) user.denied.delete(jti);
}

/** The user's sessions in the order of the Redis index: by expiry, then by id. */
function byExpiry(sessions: Map<string, StoredSession>): StoredSession[] {
  return [...sessions.values()].sort((a, b) => a.exp - b.exp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function toSession(s: StoredSession): Session {
  return {
    id: s.id,
    userId: s.userId,
    role: s.role,
    createdAt: new Date(s.createdAt),
    lastSeenAt: new Date(s.lastSeenAt),
    expiresAt: new Date(s.exp),
    absoluteExpiresAt: new Date(s.absExp),
    ip: s.ip,
    device: s.device,
  };
}
