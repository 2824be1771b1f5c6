import { Module } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from '@nest-hardening/redis';
import { getOptionsToken, getStorageToken, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { RATE_LIMIT_POLICIES } from './throttling.constants';
import { RateLimitGuard } from './throttling.guard';
import { RateLimiter } from './throttling.limiter';
import { RateLimitMetrics } from './throttling.metrics';
import { ConfigurableModuleClass, THROTTLING_MODULE_OPTIONS, type ThrottlingModuleOptions } from './throttling.module-definition';
import { RedisOutageMonitor } from './throttling.outage-monitor';
import type { RateLimitPolicyDefinition } from './throttling.policy';
import { resolveRateLimitPolicies } from './throttling.policy-resolver';
import { RedisRateLimitStore } from './throttling.redis-store';
import { RedisThrottlerStorage } from './throttling.throttler-storage';
import { RateLimitStore } from './throttling.store.interface';

/**
 * Distributed rate limiting on @nestjs/throttler with Redis. Needs `RedisModule` and
 * `SecurityEventsModule` (global) in the app. Registers no guard: add `RateLimitGuard` as
 * `APP_GUARD` after the authentication guard. Also provides the stock `ThrottlerStorage` and
 * throttler options tokens (the policies, over `RedisThrottlerStorage`) for the stock guard.
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
    RedisRateLimitStore,
    { provide: RateLimitStore, useExisting: RedisRateLimitStore },
    { provide: getStorageToken(), inject: [REDIS_CLIENT], useFactory: (redis: RedisClient) => new RedisThrottlerStorage(redis) },
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
    RedisRateLimitStore,
    RateLimitMetrics,
    RateLimiter,
    RateLimitGuard,
  ],
})
export class ThrottlingModule extends ConfigurableModuleClass {}
