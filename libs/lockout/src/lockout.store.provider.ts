import type { FactoryProvider } from '@nestjs/common';

import { REDIS_CLIENT, requireRedisFor, warnIfMemoryStoreInProduction, type RedisClient } from '@nest-hardening/redis';

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
      warnIfMemoryStoreInProduction('LockoutModule', 'failures and locks');
      return new MemoryLockoutStore(options);
    }
    return new RedisLockoutStore(requireRedisFor('LockoutModule', redis), options);
  },
};
