import type { FactoryProvider } from '@nestjs/common';
import { getStorageToken, ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';

import { REDIS_CLIENT, requireRedisFor, warnIfMemoryStoreInProduction, type RedisClient } from '@nest-hardening/redis';

import { MemoryRateLimitStore } from './rate-limit.memory-store';
import { RATE_LIMIT_MODULE_OPTIONS, type RateLimitModuleOptions } from './rate-limit.module-definition';
import { RedisRateLimitStore } from './rate-limit.redis-store';
import { RateLimitStore } from './rate-limit.store.interface';
import { RedisThrottlerStorage } from './redis-throttler-storage';

/**
 * The counter store `options.store` selects: Redis (the default; shared by every instance) or
 * memory (one process, for an adopter's unit tests without Redis; never for production, so it
 * warns when `NODE_ENV` is `production`).
 */
export const rateLimitStoreProvider: FactoryProvider<RateLimitStore> = {
  provide: RateLimitStore,
  inject: [RATE_LIMIT_MODULE_OPTIONS, { token: REDIS_CLIENT, optional: true }],
  useFactory: (options: RateLimitModuleOptions, redis?: RedisClient) => {
    if (options.store === 'memory') {
      warnIfMemoryStoreInProduction('RateLimitModule', 'limits');
      return new MemoryRateLimitStore(options.memoryFallbackMaxEntries ?? 10_000);
    }
    return new RedisRateLimitStore(requireRedisFor('RateLimitModule', redis));
  },
};

/**
 * The stock `ThrottlerStorage` for `ThrottlerGuard`: {@link RedisThrottlerStorage}, or with
 * `store: 'memory'` the stock in-memory storage of `@nestjs/throttler`.
 */
export const throttlerStorageProvider: FactoryProvider<ThrottlerStorage> = {
  provide: getStorageToken(),
  inject: [RATE_LIMIT_MODULE_OPTIONS, { token: REDIS_CLIENT, optional: true }],
  useFactory: (options: RateLimitModuleOptions, redis?: RedisClient) =>
    options.store === 'memory' || !redis ? new ThrottlerStorageService() : new RedisThrottlerStorage(redis),
};
