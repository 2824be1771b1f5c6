import { Module } from '@nestjs/common';
import { getOptionsToken, getStorageToken, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { RATE_LIMIT_POLICIES } from './throttling.constants';
import { RateLimitGuard } from './throttling.guard';
import { RateLimiter } from './throttling.limiter';
import { RateLimitMetrics } from './throttling.metrics';
import { ConfigurableModuleClass, THROTTLING_MODULE_OPTIONS, type ThrottlingModuleOptions } from './throttling.module-definition';
import { RedisOutageMonitor } from './throttling.outage-monitor';
import type { RateLimitPolicyDefinition } from './throttling.policy';
import { resolveRateLimitPolicies } from './throttling.policy-resolver';
import { RateLimitStore } from './throttling.store.interface';
import { rateLimitStoreProvider, throttlerStorageProvider } from './throttling.store.provider';

/**
 * Distributed rate limiting on @nestjs/throttler with Redis. Needs `RedisModule` and
 * `SecurityEventsModule` (global) in the app; with `store: 'memory'` (unit tests only) no Redis.
 * Registers no guard: add `RateLimitGuard` as `APP_GUARD` after the authentication guard. Also
 * provides the stock `ThrottlerStorage` and throttler options tokens (backed by the same store and
 * policies) for the stock guard.
 *
 * @example
 * ThrottlingModule.forRoot({ overrides: { general: { limit: config.RATE_LIMIT_GENERAL } }, ipCeiling: false })
 */
@Module({
  providers: [
    {
      provide: RATE_LIMIT_POLICIES,
      inject: [THROTTLING_MODULE_OPTIONS],
      useFactory: (options: ThrottlingModuleOptions) => resolveRateLimitPolicies(options),
    },
    {
      provide: getOptionsToken(),
      inject: [RATE_LIMIT_POLICIES],
      useFactory: (policies: readonly RateLimitPolicyDefinition[]): ThrottlerModuleOptions => ({
        throttlers: policies.map((policy) => ({ name: policy.name, limit: policy.limit, ttl: policy.ttlMs, blockDuration: policy.blockMs })),
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
    THROTTLING_MODULE_OPTIONS,
    RATE_LIMIT_POLICIES,
    getOptionsToken(),
    getStorageToken(),
    RateLimitStore,
    RateLimitMetrics,
    RateLimiter,
    RateLimitGuard,
  ],
})
export class ThrottlingModule extends ConfigurableModuleClass {}
