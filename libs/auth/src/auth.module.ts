import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';

import { AccessTokenGuard } from './access-token.guard';
import { AUTH_OPTIONS_CHECK, checkAuthOptions } from './auth-options.check';
import { AUTH_MODULE_OPTIONS, ConfigurableModuleClass, type AuthModuleOptions } from './auth.module-definition';
import { AuthenticationRequiredGuard } from './authentication-required.guard';
import { JwtStrategy } from './jwt.strategy';
import { PublicKeyStore } from './public-key-store';
import { RolesGuard } from './roles.guard';

/**
 * Access-token verification for every service. Needs a `SessionValidator` provider in scope
 * (`SessionRevocationModule` from `@nest-hardening/sessions` provides it globally). Apps register
 * `AccessTokenGuard` then `RolesGuard` as `APP_GUARD`s.
 *
 * @example
 * AuthModule.forRoot({ issuer: 'auth-service', audience: 'payments-api', jwksUrl: 'http://127.0.0.1:3001/.well-known/jwks.json' })
 */
@Module({
  imports: [PassportModule],
  providers: [
    { provide: AUTH_OPTIONS_CHECK, inject: [AUTH_MODULE_OPTIONS], useFactory: (options: AuthModuleOptions) => checkAuthOptions(options) },
    PublicKeyStore,
    JwtStrategy,
    AccessTokenGuard,
    AuthenticationRequiredGuard,
    RolesGuard,
  ],
  exports: [PublicKeyStore, AccessTokenGuard, AuthenticationRequiredGuard, RolesGuard],
})
export class AuthModule extends ConfigurableModuleClass {}
