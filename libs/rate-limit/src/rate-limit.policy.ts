/**
 * Whose budget a request spends.
 * - `user-or-ip`: the verified user (`req.user.id`, set by an auth guard that ran first), else the client IP.
 * - `ip`: the client IP (IPv6 grouped by /64), even for authenticated requests.
 * - `user`: the verified user. A request without one is counted against its IP, so a misordered
 *   guard chain or a public route can never escape the policy.
 * - `global`: one budget shared by every client (e.g. registrations across all addresses).
 */
export type RateLimitTrackerKind = 'user-or-ip' | 'ip' | 'user' | 'global';

/** `all-routes`: every throttled route spends it. `opt-in`: only routes marked with `@RateLimitPolicy(name)`. */
export type RateLimitScope = 'all-routes' | 'opt-in';

/**
 * What a policy does while Redis does not answer.
 * - `memory`: a bounded per-process fixed-window limiter takes over (limits are per instance then).
 * - `fail-closed`: the request is refused with 503 and `Retry-After`.
 */
export type RedisErrorMode = 'memory' | 'fail-closed';

/** One named rate-limit policy: `limit` requests per `ttlMs` window per tracker. */
export interface RateLimitPolicyDefinition {
  /** Letters, digits, `_` and `-`; also the name used by `@Throttle({ name: ... })` and `@SkipThrottle({ name: true })`. */
  name: string;
  limit: number;
  ttlMs: number;
  tracker: RateLimitTrackerKind;
  scope: RateLimitScope;
  onRedisError: RedisErrorMode;
  /**
   * A request answered 400, 413 or 415 was refused before anything it asked for was looked at: its
   * unit of this policy is given back and charged to the `malformed` policy instead (per IP), as long
   * as that budget lasts. Without a `malformed` policy in the app, nothing is given back. A route
   * that spends such a policy must never answer 400 after checking a credential: that answer
   * would be free.
   */
  refundIfMalformed?: boolean;
  /**
   * Once a tracker exceeds `limit`, refuse it for `blockMs` from that request (not until the window
   * ends), whatever it sends meanwhile: hits while blocked never move the block's end. After the block
   * the tracker starts a fresh window. Absent: a denied tracker is let back in when its window ends.
   * Not applied to the `malformed` policy (charged by a refund, never refused).
   */
  blockMs?: number;
}

/** The policy that malformed credential requests are charged to (see `refundIfMalformed`). */
export const MALFORMED_POLICY = 'malformed';

const FIFTEEN_MINUTES = 15 * 60 * 1000;

/**
 * The policies an app gets when it configures none: one global budget per client, strict opt-in
 * budgets for credential endpoints (which fail closed: an outage must not open a brute-force
 * window), a per-user budget for account administration routes, the per-IP budget of malformed
 * credential requests, and one budget of registrations across all clients.
 */
export const DEFAULT_RATE_LIMIT_POLICIES: readonly RateLimitPolicyDefinition[] = Object.freeze([
  { name: 'general', limit: 100, ttlMs: FIFTEEN_MINUTES, tracker: 'user-or-ip', scope: 'all-routes', onRedisError: 'memory' },
  { name: 'auth', limit: 5, ttlMs: FIFTEEN_MINUTES, tracker: 'ip', scope: 'opt-in', onRedisError: 'fail-closed', refundIfMalformed: true },
  { name: 'refresh', limit: 30, ttlMs: FIFTEEN_MINUTES, tracker: 'ip', scope: 'opt-in', onRedisError: 'fail-closed' },
  { name: 'admin', limit: 100, ttlMs: FIFTEEN_MINUTES, tracker: 'user', scope: 'opt-in', onRedisError: 'memory' },
  // Never charged up front: credential requests refused as malformed are moved here from `auth`.
  { name: MALFORMED_POLICY, limit: 50, ttlMs: FIFTEEN_MINUTES, tracker: 'ip', scope: 'opt-in', onRedisError: 'memory' },
  {
    name: 'registration',
    limit: 100,
    ttlMs: FIFTEEN_MINUTES,
    tracker: 'global',
    scope: 'opt-in',
    onRedisError: 'memory',
    refundIfMalformed: true,
  },
]);

/** The optional per-IP ceiling across all users (off unless `ipCeiling` is set in the module options). */
export const DEFAULT_IP_CEILING_POLICY: RateLimitPolicyDefinition = Object.freeze({
  name: 'ipCeiling',
  limit: 1000,
  ttlMs: FIFTEEN_MINUTES,
  tracker: 'ip',
  scope: 'all-routes',
  onRedisError: 'memory',
});
