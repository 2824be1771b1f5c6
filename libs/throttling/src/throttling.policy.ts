/**
 * Whose budget a request spends.
 * - `user-or-ip`: the verified user (`req.user.id`, set by an auth guard that ran first), else the client IP.
 * - `ip`: the client IP (IPv6 grouped by /64), even for authenticated requests.
 * - `user`: the verified user. A request without one is counted against its IP, so a misordered
 *   guard chain or a public route can never escape the policy.
 */
export type RateLimitTrackerKind = 'user-or-ip' | 'ip' | 'user';

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
}

const FIFTEEN_MINUTES = 15 * 60 * 1000;

/**
 * The policies an app gets when it configures none: one global budget per client, strict opt-in
 * budgets for credential endpoints (which fail closed: an outage must not open a brute-force
 * window), and a per-user budget for account administration routes.
 */
export const DEFAULT_RATE_LIMIT_POLICIES: readonly RateLimitPolicyDefinition[] = Object.freeze([
  { name: 'general', limit: 100, ttlMs: FIFTEEN_MINUTES, tracker: 'user-or-ip', scope: 'all-routes', onRedisError: 'memory' },
  { name: 'auth', limit: 5, ttlMs: FIFTEEN_MINUTES, tracker: 'ip', scope: 'opt-in', onRedisError: 'fail-closed' },
  { name: 'refresh', limit: 30, ttlMs: FIFTEEN_MINUTES, tracker: 'ip', scope: 'opt-in', onRedisError: 'fail-closed' },
  { name: 'admin', limit: 100, ttlMs: FIFTEEN_MINUTES, tracker: 'user', scope: 'opt-in', onRedisError: 'memory' },
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
