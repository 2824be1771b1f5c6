import type { FactoryProvider } from '@nestjs/common';

import {
  REDIS_CLIENT,
  REDIS_MODULE_OPTIONS,
  REDIS_SUBSCRIBER,
  requireRedisFor,
  warnIfMemoryStoreInProduction,
  type RedisClient,
  type RedisModuleOptions,
} from '@nest-hardening/redis';

import { SHARED_MEMORY_SESSION_STORE, type SharedMemorySessionStore } from './memory-session-store.module';
import { RedisSessionStore } from './redis-session.store';
import { SessionStore } from './session.store';

/** Where sessions live: `'redis'` (the default) or `'memory'` (one process, for unit tests only). */
export type SessionStoreKind = 'redis' | 'memory';

/**
 * The `SessionStore` that `options.store` selects for `moduleName`: {@link RedisSessionStore}
 * through the global `RedisModule`, or the app's one `MemorySessionStore` (shared by the sessions
 * modules of the app, so a revocation reaches the checker's cache). The memory store warns when
 * `NODE_ENV` is `production`: every instance would hold sessions of its own.
 */
export function sessionStoreProvider(moduleName: string, optionsToken: string | symbol): FactoryProvider<SessionStore> {
  return {
    provide: SessionStore,
    inject: [
      optionsToken,
      SHARED_MEMORY_SESSION_STORE,
      { token: REDIS_CLIENT, optional: true },
      { token: REDIS_SUBSCRIBER, optional: true },
      { token: REDIS_MODULE_OPTIONS, optional: true },
    ],
    useFactory: (
      options: { store?: SessionStoreKind },
      memory: SharedMemorySessionStore,
      redis?: RedisClient,
      subscriber?: RedisClient,
      redisOptions?: RedisModuleOptions,
    ) => {
      const store = options.store ?? 'redis';
      if (store !== 'redis' && store !== 'memory') throw new Error(`${moduleName}: store must be 'redis' or 'memory'`);
      if (store === 'memory') {
        warnIfMemoryStoreInProduction(moduleName, 'sessions');
        return memory.get();
      }
      // RedisModule provides the client and its options together.
      return new RedisSessionStore(requireRedisFor(moduleName, redis), requireRedisFor(moduleName, redisOptions), subscriber);
    },
  };
}
