import { Module, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { getOptionsToken, getStorageToken, type ThrottlerModuleOptions, type ThrottlerOptions } from '@nestjs/throttler';

import { RATE_LIMIT_POLICIES, RATE_LIMIT_POLICIES_METADATA, SKIP_RATE_LIMIT_METADATA } from './rate-limit.constants';
import { RateLimitGuard } from './rate-limit.guard';
import { GLOBAL_TRACKER } from './rate-limit.keys';
import { RateLimiter } from './rate-limit.limiter';
import { RateLimitMetrics } from './rate-limit.metrics';
import { ConfigurableModuleClass, RATE_LIMIT_MODULE_OPTIONS, type RateLimitModuleOptions } from './rate-limit.module-definition';
import { RedisOutageMonitor } from './rate-limit.outage-monitor';
import type { RateLimitPolicyDefinition } from './rate-limit.policy';
import { resolveRateLimitPolicies } from './rate-limit.policy-resolver';
import { RateLimitStore } from './rate-limit.store.interface';
import { rateLimitStoreProvider, throttlerStorageProvider } from './rate-limit.store.provider';

/**
 * Distributed rate limiting on @nestjs/throttler with Redis. Needs `RedisModule` and
 * `SecurityEventsModule` (global) in the app; with `store: 'memory'` (unit tests only) no Redis.
 * Registers no guard: add `RateLimitGuard` as `APP_GUARD` after the authentication guard. Also
 * provides the stock `ThrottlerStorage` and throttler options tokens (backed by the same store and
 * policies) for the stock guard.
 *
 * @example
 * RateLimitModule.forRoot({ overrides: { general: { limit: config.RATE_LIMIT_GENERAL } }, ipCeiling: false })
 */
const reflector = new Reflector();

/**
 * A policy as a stock throttler. The stock guard applies every throttler to every route, so the
 * route's decorators decide here what they decide for `RateLimitGuard`: an opt-in policy (`auth`,
 * 5 / 15 min) counts only on routes marked `@RateLimitPolicy(name)`, `@SkipRateLimit()` skips all,
 * and a `global` policy is one budget for every client.
 */
function stockThrottlerOf(policy: RateLimitPolicyDefinition): ThrottlerOptions {
  const skipIf = (context: ExecutionContext): boolean => {
    const targets = [context.getHandler(), context.getClass()];
    if (reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT_METADATA, targets)) return true;
    if (policy.scope !== 'opt-in') return false;
    return !(reflector.getAllAndMerge<string[]>(RATE_LIMIT_POLICIES_METADATA, targets) ?? []).includes(policy.name);
  };
  return {
    name: policy.name,
    limit: policy.limit,
    ttl: policy.ttlMs,
    blockDuration: policy.blockMs,
    skipIf,
    ...(policy.tracker === 'global' ? { getTracker: () => GLOBAL_TRACKER } : {}),
  };
}

@Module({
  providers: [
    {
      provide: RATE_LIMIT_POLICIES,
      inject: [RATE_LIMIT_MODULE_OPTIONS],
      useFactory: (options: RateLimitModuleOptions) => resolveRateLimitPolicies(options),
    },
    {
      provide: getOptionsToken(),
      inject: [RATE_LIMIT_POLICIES],
      useFactory: (policies: readonly RateLimitPolicyDefinition[]): ThrottlerModuleOptions => ({
        throttlers: policies.map(stockThrottlerOf),
      }),
    },
    rateLimitStoreProvider,
    throttlerStorageProvider,
    RateLimitMetrics,
    RedisOutageMonitor,
    RateLimiter,
    RateLimitGuard,
  ],
  exports: [
    RATE_LIMIT_MODULE_OPTIONS,
    RATE_LIMIT_POLICIES,
    getOptionsToken(),
    getStorageToken(),
    RateLimitStore,
    RateLimitMetrics,
    RateLimiter,
    RateLimitGuard,
  ],
})
export class RateLimitModule extends ConfigurableModuleClass {}
