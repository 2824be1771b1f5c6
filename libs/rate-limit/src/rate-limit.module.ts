import { Module } from '@nestjs/common';
import { getOptionsToken, getStorageToken, type ThrottlerModuleOptions } from '@nestjs/throttler';

import { RATE_LIMIT_POLICIES } from './rate-limit.constants';
import { RateLimitGuard } from './rate-limit.guard';
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
        throttlers: policies.map((policy) => ({
          name: policy.name,
          limit: policy.limit,
          ttl: policy.ttlMs,
          blockDuration: policy.blockMs,
        })),
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
