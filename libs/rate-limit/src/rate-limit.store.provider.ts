import { Logger, type FactoryProvider } from '@nestjs/common';
import { getStorageToken, ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';

import { REDIS_CLIENT, type RedisClient } from '@nest-hardening/redis';

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
      // The library has no config schema of its own; NODE_ENV is the convention every app shares.
      if (process.env.NODE_ENV === 'production') {
        new Logger('RateLimit').warn(
          "RateLimitModule uses store: 'memory' with NODE_ENV=production: limits are per process and lost on restart. Use the Redis store in production.",
        );
      }
      return new MemoryRateLimitStore(options.memoryFallbackMaxEntries ?? 10_000);
    }
    if (!redis) throw new Error("RateLimitModule needs the global RedisModule (or store: 'memory' in unit tests)");
    return new RedisRateLimitStore(redis);
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
