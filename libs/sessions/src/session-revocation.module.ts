import { Module } from '@nestjs/common';
import { SessionValidator } from '@nest-hardening/auth';
import { ConfigurableModuleClass } from './session-revocation.module-definition';
import { SessionRevocationChecker } from './session-revocation.checker';

/**
 * The revocation check for services that verify access tokens (all of them). Provides the
 * `SessionValidator` that `@nest-hardening/auth`'s JwtStrategy calls on every request. Needs `RedisModule`.
 *
 * @example
 * SessionRevocationModule.forRoot({ cacheTtlMs: 500, isGlobal: true })
 */
@Module({
  providers: [SessionRevocationChecker, { provide: SessionValidator, useExisting: SessionRevocationChecker }],
  exports: [SessionValidator, SessionRevocationChecker],
})
export class SessionRevocationModule extends ConfigurableModuleClass {}
