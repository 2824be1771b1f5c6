/**
 * The metadata keys (suffixed with the throttler name) under which @nestjs/throttler's public
 * `@Throttle()` and `@SkipThrottle()` record their values. The package does not export them from its
 * root; rate-limit.constants.spec.ts reads what the decorators write, so an upgrade that renames
 * them fails the tests instead of silently ignoring the decorators.
 */
export const THROTTLER_LIMIT = 'THROTTLER:LIMIT';
export const THROTTLER_TTL = 'THROTTLER:TTL';
export const THROTTLER_SKIP = 'THROTTLER:SKIP';

/** Metadata key of `@RateLimitPolicy()`: names of opt-in policies a handler or controller spends. */
export const RATE_LIMIT_POLICIES_METADATA = 'rate-limit:policies';
/** Metadata key of `@SkipRateLimit()`. */
export const SKIP_RATE_LIMIT_METADATA = 'rate-limit:skip';
/** Injection token of the resolved, validated policy list. */
export const RATE_LIMIT_POLICIES = Symbol('RATE_LIMIT_POLICIES');
