import { Module } from '@nestjs/common';
import { SessionValidator } from '@lib/auth';
import { ConfigurableModuleClass } from './session-revocation.module-definition';
import { SessionRevocationChecker } from './session-revocation.checker';

/**
 * The revocation check for services that verify access tokens (all of them). Provides the
 * `SessionValidator` that `@lib/auth`'s JwtStrategy calls on every request. Needs `RedisModule`.
 *
 * @example
 * SessionRevocationModule.forRoot({ cacheTtlMs: 500, isGlobal: true })
 */
@Module({
  providers: [SessionRevocationChecker, { provide: SessionValidator, useExisting: SessionRevocationChecker }],
  exports: [SessionValidator, SessionRevocationChecker],
})
export class SessionRevocationModule extends ConfigurableModuleClass {}
