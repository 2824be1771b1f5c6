import type { Role } from '@nest-hardening/auth';

import type { SessionFingerprint } from './session-fingerprint';
import type { ClientContext, Session } from './session.interface';

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

/** Receives the revocation announcements of a {@link SessionStore}. */
export interface RevocationListener {
  /** A revocation: `s:<sessionId>` (a session ended) or `j:<jti>` (one access token denylisted). */
  revoked(message: string): void;
  /** Announcements may be missed from now on, until `ready`; `reason` when the store knows more than a closed connection. */
  lost(reason?: string): void;
  /** The announcement feed is (again) up when `up` is true. */
  ready(up: boolean): void;
}

/** The default of {@link RevocationWatchOptions.probeIntervalMs}. */
export const DEFAULT_PROBE_INTERVAL_MS = 2000;

export interface RevocationWatchOptions {
  /**
   * A store whose announcements travel over a network (Redis) publishes a probe this often and
   * reports the feed lost when one has not come back within two intervals (default 2000 ms).
   */
  probeIntervalMs?: number;
}

/**
 * Port of the session repository: every read and write of session state goes through here, and
 * each method is one atomic step. `RedisSessionStore` (the default, shared by every instance) runs
 * one Lua script per call; `MemorySessionStore` keeps the same rules in one process, for an
 * adopter's unit tests only. Every session that ends and every token denylisted is announced to
 * the listeners of {@link watchRevocations}.
 */
export abstract class SessionStore {
  /** Throws {@link StaleAuthorizationError} when the user's authorization version moved past `authVersion`. */
  abstract create(input: NewSession): Promise<{ session: Session; evicted: string[] }>;

  /** Checks the presented refresh-token generation against the session and rotates it (see RotationOutcome). */
  abstract rotate(request: RotationRequest): Promise<RotationResult>;

  /** The user's live sessions, in no particular order. */
  abstract list(userId: string): Promise<Session[]>;

  /** Ends one session of the user; returns false when the user has no such session. */
  abstract revoke(userId: string, sessionId: string): Promise<boolean>;

  /**
   * Ends every session of the user except `keepSessionId`; returns the ids ended, or undefined (and
   * ends nothing) when `keepSessionId` is not a live session of the user: the caller's own session
   * ended first, for instance by another device ending every session but its own at the same moment.
   */
  abstract revokeOthers(userId: string, keepSessionId: string): Promise<string[] | undefined>;

  /** Ends every session of the user; returns the ids ended. */
  abstract revokeAll(userId: string): Promise<string[]>;

  /**
   * Publishes the user's new authorization version (from the database) and ends every session
   * created under an older one, except `keepSessionId` (moved to the new version). Returns the ids ended.
   */
  abstract advanceAuthVersion(userId: string, version: number, keepSessionId?: string, keepFrom?: number): Promise<string[]>;

  /**
   * Counts a current-password check made with the session before the password is verified.
   * Returns the check's number (1..max), 0 when the session had none left (it has been ended), or
   * -1 when the session does not exist.
   */
  abstract reserveCredentialCheck(userId: string, sessionId: string, maxChecks: number): Promise<number>;

  /** A current-password check succeeded: the session's count starts again. */
  abstract resetCredentialChecks(userId: string, sessionId: string): Promise<void>;

  /**
   * Ends the session and denylists the access token used (until `tokenExpiresAtSeconds`), in one
   * step; false when the token was no longer live (its session had ended, or it was denylisted).
   */
  abstract logout(userId: string, sessionId: string, jti: string, tokenExpiresAtSeconds: number): Promise<boolean>;

  /** The per-request revocation check: the session exists and the access token `jti` is not denylisted. */
  abstract isActive(userId: string, sessionId: string, jti: string): Promise<boolean>;

  /** Delivers every later revocation announcement to `listener`, and tells it when the feed goes down and up. */
  abstract watchRevocations(listener: RevocationListener, options?: RevocationWatchOptions): Promise<void>;
}
