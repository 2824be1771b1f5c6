import type { Role } from '@nest-hardening/auth';

/** A live session as stored in Redis (never includes any token material). */
export interface Session {
  id: string;
  userId: string;
  role: Role;
  createdAt: Date;
  lastSeenAt: Date;
  /** When the session ends if not refreshed: min(last refresh + idle limit, absolute expiry). */
  expiresAt: Date;
  absoluteExpiresAt: Date;
  ip: string;
  /**
   * A short label of the client ("Firefox 128 on Windows"): what the session list shows. The raw
   * user agent is not kept (its keyed hash is, for the fingerprint), which keeps a session's hash
   * in Redis's compact encoding.
   */
  device: string;
}

/** Where a login or refresh comes from. */
export interface ClientContext {
  ip: string;
  userAgent: string;
}

/** A session together with the refresh token the client must present next. */
export interface IssuedSession {
  userId: string;
  sessionId: string;
  role: Role;
  refreshToken: string;
  /** When the session (and so the refresh token) ends if not refreshed. */
  expiresAt: Date;
}
