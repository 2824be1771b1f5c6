import type { DynamicModule } from '@nestjs/common';

import { AuthModule, type AuthModuleOptions } from '@nest-hardening/auth';
import { redisConnection, type CommonEnv } from '@nest-hardening/config';
import { DatabaseModule } from '@nest-hardening/database';
import { MetricsModule } from '@nest-hardening/metrics';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { SessionRevocationModule } from '@nest-hardening/sessions';

export interface ServiceModulesSettings {
  /** The service's name: in logs, Sentry, metrics and Redis CLIENT LIST. */
  service: string;
  env: CommonEnv;
  pseudonymSecret: string;
}

/**
 * The modules every service is built on, configured the same way from the common settings:
 * Redis, security events (log + Sentry), the per-request session revocation check, and /metrics.
 */
export function serviceModules({ service, env, pseudonymSecret }: ServiceModulesSettings): DynamicModule[] {
  return [
    RedisModule.forRoot({
      ...redisConnection(env),
      keyPrefix: env.REDIS_KEY_PREFIX,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
      connectionName: service,
      isGlobal: true,
    }),
    SecurityEventsModule.forRoot({
      service,
      pseudonymKey: pseudonymSecret,
      sentryDsn: env.SENTRY_DSN,
      environment: env.SENTRY_ENVIRONMENT,
      isGlobal: true,
    }),
    SessionRevocationModule.forRoot({
      cacheTtlMs: env.REVOCATION_CACHE_MS,
      probeIntervalMs: env.REVOCATION_PROBE_INTERVAL_MS,
      isGlobal: true,
    }),
    MetricsModule.forRoot({ service, token: env.METRICS_TOKEN, requireToken: env.NODE_ENV === 'production' }),
  ];
}

/** Postgres for the services that own tables, with the service's own migrations. */
export function databaseModule(
  settings: { DATABASE_URL: string; DATABASE_MIGRATE_ON_START: boolean; DATABASE_POOL_SIZE: number; DATABASE_QUERY_TIMEOUT_MS: number },
  migrationsDir: string,
): DynamicModule {
  return DatabaseModule.forRoot({
    url: settings.DATABASE_URL,
    migrateOnStart: settings.DATABASE_MIGRATE_ON_START,
    migrationsDir,
    poolSize: settings.DATABASE_POOL_SIZE,
    queryTimeoutMs: settings.DATABASE_QUERY_TIMEOUT_MS,
    isGlobal: true,
  });
}

/**
 * Token verification for an app that does not issue tokens (the gateway, a resource service): keys
 * from auth-service's JWKS, re-read and refetched on an unknown `kid` as the common settings say.
 */
export function tokenVerifierModule(env: CommonEnv, jwksUrl: string, extra: Partial<AuthModuleOptions> = {}): DynamicModule {
  return AuthModule.forRoot({
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    jwksUrl,
    jwksMaxAgeMs: env.JWKS_MAX_AGE_MS,
    jwksRefetchCooldownMs: env.JWKS_REFETCH_COOLDOWN_MS,
    ...extra,
  });
}
