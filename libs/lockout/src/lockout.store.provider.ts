import { Logger, type FactoryProvider } from '@nestjs/common';

import { REDIS_CLIENT, type RedisClient } from '@nest-hardening/redis';

import type { ResolvedLockoutOptions } from './lockout-options.interface';
import { MemoryLockoutStore } from './lockout.memory-store';
import { RESOLVED_LOCKOUT_OPTIONS } from './lockout.module-definition';
import { RedisLockoutStore } from './lockout.redis-store';
import { LockoutStore } from './lockout.store';

/**
 * The lockout store `options.store` selects: Redis (the default; shared by every instance) or
 * memory (one process, for an adopter's unit tests without Redis; never for production, so it
 * warns when `NODE_ENV` is `production`).
 */
export const lockoutStoreProvider: FactoryProvider<LockoutStore> = {
  provide: LockoutStore,
  inject: [RESOLVED_LOCKOUT_OPTIONS, { token: REDIS_CLIENT, optional: true }],
  useFactory: (options: ResolvedLockoutOptions, redis?: RedisClient) => {
    if (options.store === 'memory') {
      // The library has no config schema of its own; NODE_ENV is the convention every app shares.
      if (process.env.NODE_ENV === 'production') {
        new Logger('Lockout').warn(
          "LockoutModule uses store: 'memory' with NODE_ENV=production: failures and locks are per process and lost on restart. Use the Redis store in production.",
        );
      }
      return new MemoryLockoutStore(options);
    }
    if (!redis) throw new Error("LockoutModule needs the global RedisModule (or store: 'memory' in unit tests)");
    return new RedisLockoutStore(redis, options);
  },
};
