// The stock guard reads its decorators' metadata under these keys; they are not exported from the
// package root, so they come from the same module file the stock guard uses.
export { THROTTLER_LIMIT, THROTTLER_SKIP, THROTTLER_TTL } from '@nestjs/throttler/dist/throttler.constants';

/** Metadata key of `@RateLimitPolicy()`: names of opt-in policies a handler or controller spends. */
export const RATE_LIMIT_POLICIES_METADATA = 'rate-limit:policies';
/** Metadata key of `@SkipRateLimit()`. */
export const SKIP_RATE_LIMIT_METADATA = 'rate-limit:skip';
/** Injection token of the resolved, validated policy list. */
export const RATE_LIMIT_POLICIES = Symbol('RATE_LIMIT_POLICIES');
