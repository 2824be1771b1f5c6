import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessTokenGuard, AuthModule, RolesGuard } from '@lib/auth';
import { DatabaseModule } from '@lib/database';
import { HealthModule } from '@lib/health';
import { MetricsModule } from '@lib/metrics';
import { RedisModule } from '@lib/redis';
import { SecurityEventsModule } from '@lib/security-events';
import { SessionRevocationModule } from '@lib/sessions';
import { RateLimitGuard, ThrottlingModule } from '@lib/throttling';
import type { ProfileServiceConfig } from './config/profile-service.config';
import { ProfileController } from './profile/profile.controller';
import { ProfileRepository } from './profile/profile.repository';

/** A downstream resource service: verifies tokens and sessions itself (defence in depth). */
@Module({})
export class ProfileServiceModule {
  static register(config: ProfileServiceConfig): DynamicModule {
    return {
      module: ProfileServiceModule,
      imports: [
        RedisModule.forRoot({
          url: config.REDIS_URL,
          clusterNodes: config.REDIS_CLUSTER_NODES,
          keyPrefix: config.REDIS_KEY_PREFIX,
          commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
          connectionName: 'profile-service',
          isGlobal: true,
        }),
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          migrateOnStart: config.DATABASE_MIGRATE_ON_START,
          poolSize: config.DATABASE_POOL_SIZE,
          isGlobal: true,
        }),
        SecurityEventsModule.forRoot({
          service: 'profile-service',
          pseudonymKey: config.pseudonymSecret,
          sentryDsn: config.SENTRY_DSN,
          environment: config.SENTRY_ENVIRONMENT,
          isGlobal: true,
        }),
        SessionRevocationModule.forRoot({ cacheTtlMs: config.REVOCATION_CACHE_MS, isGlobal: true }),
        AuthModule.forRoot({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwksUrl: config.jwksUrl }),
        ThrottlingModule.forRoot({
          policies: [
            {
              name: 'profile',
              limit: config.RATE_LIMIT_PROFILE_LIMIT,
              ttlMs: config.RATE_LIMIT_PROFILE_WINDOW_MS,
              tracker: 'user',
              scope: 'all-routes',
              onRedisError: 'memory',
            },
          ],
        }),
        HealthModule.forRoot({ redis: true, database: true }),
        MetricsModule.forRoot({ service: 'profile-service', token: config.METRICS_TOKEN }),
      ],
      controllers: [ProfileController],
      providers: [
        ProfileRepository,
        { provide: APP_GUARD, useExisting: AccessTokenGuard },
        { provide: APP_GUARD, useExisting: RolesGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
