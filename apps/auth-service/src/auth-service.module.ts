import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

import { AccessTokenGuard, AuthModule } from '@nest-hardening/auth';
import { HealthModule } from '@nest-hardening/health';
import { databaseModule, serviceModules } from '@nest-hardening/http-app';
import { LockoutModule } from '@nest-hardening/lockout';
import { DEFAULT_RATE_LIMIT_POLICIES, RateLimitModule } from '@nest-hardening/rate-limit';
import { SessionsModule } from '@nest-hardening/sessions';

import { AccountAdministrationService } from './accounts/account-administration.service';
import { AccountDirectory } from './accounts/account-directory.service';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import { LockoutAccountDirectoryAdapter } from './accounts/lockout-account-directory.adapter';
import { PasswordHasher } from './accounts/password-hasher';
import { UsersModule } from './accounts/users.module';
import { AuditTrail } from './audit/audit-trail';
import { AuditedRateLimitGuard } from './audit/audited-rate-limit.guard';
import { AuditedRolesGuard } from './audit/audited-roles.guard';
import { SecurityEventHistory } from './audit/security-event-history.service';
import { SecurityEventsRepository } from './audit/security-events.repository';
import { AuthController } from './auth/auth.controller';
import { AuthService } from './auth/auth.service';
import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from './config/auth-service.config';
import { AUTH_SERVICE_MIGRATIONS_DIR } from './database/auth-migrations';
import { AccessTokenIssuer } from './keys/access-token.issuer';
import { JwksController } from './keys/jwks.controller';
import { SigningKeyService } from './keys/signing-key.service';
import { MeController } from './me/me.controller';
import { PasswordPolicy } from './passwords/password-policy.service';

/** Holds the signing key so that AuthModule (token verification) can read the public half in process. */
@Module({
  providers: [SigningKeyService],
  exports: [SigningKeyService],
})
class SigningKeyModule {}

/**
 * auth-service: accounts, credentials, tokens and sessions. Built from a validated config object so
 * that tests compose exactly the production module with their own settings.
 */
@Module({})
export class AuthServiceModule {
  static register(config: AuthServiceConfig): DynamicModule {
    const configProvider = { provide: AUTH_SERVICE_CONFIG, useValue: config };
    const signingKeyModule: DynamicModule = {
      module: SigningKeyModule,
      providers: [configProvider, SigningKeyService],
      exports: [SigningKeyService],
    };
    return {
      module: AuthServiceModule,
      imports: [
        ...serviceModules({ service: 'auth-service', env: config, pseudonymSecret: config.secrets.pseudonym }),
        databaseModule(config, AUTH_SERVICE_MIGRATIONS_DIR),
        SessionsModule.forRoot({
          refreshTokenSecret: config.secrets.refreshToken,
          fingerprintSecret: config.secrets.fingerprint,
          previousRefreshTokenSecret: config.previousSecrets.refreshToken,
          previousFingerprintSecret: config.previousSecrets.fingerprint,
          idleTtlMs: config.SESSION_IDLE_TTL_MS,
          absoluteTtlMs: config.SESSION_ABSOLUTE_TTL_MS,
          reuseGraceMs: config.REFRESH_REUSE_GRACE_MS,
          maxSessionsPerUser: config.MAX_SESSIONS_PER_USER,
          fingerprint: {
            userAgent: config.FINGERPRINT_USER_AGENT_POLICY,
            ip: config.FINGERPRINT_IP_POLICY,
            ipv4PrefixBits: config.FINGERPRINT_IPV4_PREFIX_BITS,
            ipv6PrefixBits: config.FINGERPRINT_IPV6_PREFIX_BITS,
          },
        }),
        AuthModule.forRootAsync({
          imports: [signingKeyModule],
          inject: [SigningKeyService],
          useFactory: (keys: SigningKeyService) => ({
            issuer: config.JWT_ISSUER,
            audience: config.JWT_AUDIENCE,
            publicKeys: () => keys.publicJwks(),
          }),
        }),
        // The gateway enforces the general, login and refresh budgets. This service enforces the
        // login and refresh budgets again for requests that did not come through the gateway (no
        // valid gateway signature; the counters are shared when both use one Redis), and always
        // the per-user budget of its administration routes and the global registration budget.
        RateLimitModule.forRoot({
          policies: DEFAULT_RATE_LIMIT_POLICIES.filter((p) => ['auth', 'refresh', 'admin', 'malformed', 'registration'].includes(p.name)),
          overrides: {
            auth: {
              limit: config.RATE_LIMIT_AUTH_LIMIT,
              ttlMs: config.RATE_LIMIT_AUTH_WINDOW_MS,
              onRedisError: config.RATE_LIMIT_AUTH_ON_REDIS_ERROR,
            },
            refresh: {
              limit: config.RATE_LIMIT_REFRESH_LIMIT,
              ttlMs: config.RATE_LIMIT_REFRESH_WINDOW_MS,
              onRedisError: config.RATE_LIMIT_REFRESH_ON_REDIS_ERROR,
            },
            admin: {
              limit: config.RATE_LIMIT_ADMIN_LIMIT,
              ttlMs: config.RATE_LIMIT_ADMIN_WINDOW_MS,
              onRedisError: config.RATE_LIMIT_ADMIN_ON_REDIS_ERROR,
            },
            malformed: { limit: config.RATE_LIMIT_MALFORMED_LIMIT, ttlMs: config.RATE_LIMIT_MALFORMED_WINDOW_MS },
            registration: {
              limit: config.RATE_LIMIT_REGISTRATION_LIMIT,
              ttlMs: config.RATE_LIMIT_REGISTRATION_WINDOW_MS,
              onRedisError: config.RATE_LIMIT_REGISTRATION_ON_REDIS_ERROR,
            },
          },
          gatewayEnforced: ['auth', 'refresh'],
        }),
        LockoutModule.forRootAsync({
          imports: [UsersModule],
          inject: [LockoutAccountDirectoryAdapter],
          useFactory: (directory: LockoutAccountDirectoryAdapter) => ({
            keySecret: config.secrets.lockout,
            previousKeySecret: config.previousSecrets.lockout,
            pairMaxFailures: config.LOCKOUT_PAIR_MAX_FAILURES,
            pairWindowMs: config.LOCKOUT_PAIR_WINDOW_MS,
            baseLockMs: config.LOCKOUT_BASE_LOCK_MS,
            maxLockMs: config.LOCKOUT_MAX_LOCK_MS,
            backoffResetMs: config.LOCKOUT_BACKOFF_RESET_MS,
            emailMaxFailures: config.LOCKOUT_EMAIL_MAX_FAILURES,
            emailWindowMs: config.LOCKOUT_EMAIL_WINDOW_MS,
            emailLockMs: config.LOCKOUT_EMAIL_LOCK_MS,
            ipMaxFailures: config.LOCKOUT_IP_MAX_FAILURES,
            ipWindowMs: config.LOCKOUT_IP_WINDOW_MS,
            ipBlockMs: config.LOCKOUT_IP_BLOCK_MS,
            knownAddressTtlMs: config.LOCKOUT_KNOWN_ADDRESS_TTL_MS,
            notificationIntervalMs: config.LOCKOUT_NOTIFICATION_INTERVAL_MS,
            onRedisError: config.LOCKOUT_ON_REDIS_ERROR,
            smtpUrl: config.SMTP_URL,
            mailFrom: config.SMTP_FROM,
            accountDirectory: directory,
          }),
        }),
        UsersModule,
        signingKeyModule,
        HealthModule.forRoot({ redis: true, database: true }),
      ],
      controllers: [AuthController, MeController, AccountsController, JwksController],
      providers: [
        configProvider,
        PasswordHasher,
        PasswordPolicy,
        AccountsService,
        AccountAdministrationService,
        SecurityEventsRepository,
        AuditTrail,
        SecurityEventHistory,
        AccountDirectory,
        AuthService,
        AccessTokenIssuer,
        { provide: APP_GUARD, useExisting: AccessTokenGuard },
        { provide: APP_GUARD, useClass: AuditedRolesGuard },
        { provide: APP_GUARD, useClass: AuditedRateLimitGuard },
      ],
    };
  }
}
