import { Module } from '@nestjs/common';

import { MemorySessionStore } from './memory-session.store';

/** The app's one {@link MemorySessionStore}, created when first asked for (a Redis app never is). */
export interface SharedMemorySessionStore {
  get(): MemorySessionStore;
}

export const SHARED_MEMORY_SESSION_STORE = Symbol('SHARED_MEMORY_SESSION_STORE');

/**
 * Imported by `SessionsModule` and `SessionRevocationModule`: a static module is instantiated once
 * per application, so with `store: 'memory'` both modules use the same sessions and the checker
 * hears the other module's revocations.
 */
@Module({
  providers: [
    {
      provide: SHARED_MEMORY_SESSION_STORE,
      useFactory: (): SharedMemorySessionStore => {
        let store: MemorySessionStore | undefined;
        return { get: () => (store ??= new MemorySessionStore()) };
      },
    },
  ],
  exports: [SHARED_MEMORY_SESSION_STORE],
})
export class MemorySessionStoreModule {}
