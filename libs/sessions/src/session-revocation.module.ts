import { Module } from '@nestjs/common';

import { SessionValidator } from '@nest-hardening/auth';

import { MemorySessionStoreModule } from './memory-session-store.module';
import { RevocationFeedMetrics } from './revocation-feed-metrics';
import { SessionRevocationChecker } from './session-revocation.checker';
import { ConfigurableModuleClass, SESSION_REVOCATION_MODULE_OPTIONS } from './session-revocation.module-definition';
import { sessionStoreProvider } from './session-store.provider';

/**
 * The revocation check for services that verify access tokens (all of them). Provides the
 * `SessionValidator` that `@nest-hardening/auth`'s JwtStrategy calls on every request. Needs
 * `RedisModule`; with `store: 'memory'` (unit tests only, the same store as `SessionsModule`) no Redis.
 *
 * @example
 * SessionRevocationModule.forRoot({ cacheTtlMs: 500, isGlobal: true })
 */
@Module({
  imports: [MemorySessionStoreModule],
  providers: [
    sessionStoreProvider('SessionRevocationModule', SESSION_REVOCATION_MODULE_OPTIONS),
    SessionRevocationChecker,
    RevocationFeedMetrics,
    { provide: SessionValidator, useExisting: SessionRevocationChecker },
  ],
  exports: [SessionValidator, SessionRevocationChecker, RevocationFeedMetrics],
})
export class SessionRevocationModule extends ConfigurableModuleClass {}
