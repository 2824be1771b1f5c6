/**
 * Redis layout of the sessions library. Every key of one user carries the hash tag `{u:<userId>}`,
 * so a user's sessions, their index and their denylisted tokens share one cluster slot and can be
 * changed together by one script. (The global key prefix is added by the Redis client.)
 *
 *   {u:<uid>}:s:<sid>       HASH   one session (see SessionFields); expires at min(idle, absolute) limit
 *   {u:<uid>}:sessions      ZSET   index of the user's sessions: member = sid, score = expiry (ms)
 *   {u:<uid>}:deny:<jti>    STRING a single access token revoked before its expiry; TTL = its remaining life
 *   {u:<uid>}:authv         STRING the user's authorization version (bumped by auth-service in Postgres on a
 *                                  password, role or status change and on "end every session"); no TTL:
 *                                  a session may only be created or refreshed with the current version
 *
 * Revocations are also announced on the pub/sub channel `<prefix>sessions:revoked` with messages
 * `s:<sid>` and `j:<jti>`, so services drop cached "session is active" answers at once.
 */
export const sessionsKeys = {
  userTag: (userId: string) => `{u:${userId}}`,
  session: (userId: string, sessionId: string) => `{u:${userId}}:s:${sessionId}`,
  index: (userId: string) => `{u:${userId}}:sessions`,
  deniedToken: (userId: string, jti: string) => `{u:${userId}}:deny:${jti}`,
  authVersion: (userId: string) => `{u:${userId}}:authv`,
  /** Channels are not prefixed by the client, so the prefix is added here. */
  revocationChannel: (keyPrefix: string) => `${keyPrefix}sessions:revoked`,
};

/** Field names of the session hash. */
export const SessionFields = {
  userId: 'uid',
  role: 'role',
  createdAt: 'createdAt',
  lastSeenAt: 'lastSeenAt',
  absoluteExpiresAt: 'absExp',
  expiresAt: 'exp',
  generation: 'gen',
  rotatedAt: 'rotatedAt',
  ip: 'ip',
  /** Device label shown in the session list (see deviceLabel). */
  device: 'dev',
  /** The raw user agent, kept by sessions created before the label was; read only. */
  legacyUserAgent: 'ua',
  uaFingerprint: 'fpUa',
  ipFingerprint: 'fpIp',
  /** Network fingerprint of the request that made the last rotation (a grace replay must come from it). */
  rotationIpFingerprint: 'rotIp',
  /** The authorization version the session was created under. */
  authVersion: 'authv',
  /** Current-password checks made with this session (a password change); limited per session. */
  credentialChecks: 'pwchk',
} as const;
