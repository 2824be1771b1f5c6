import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

import { AccessTokenGuard, RolesGuard } from '@nest-hardening/auth';
import { HealthModule } from '@nest-hardening/health';
import { databaseModule, serviceModules, tokenVerifierModule } from '@nest-hardening/http-app';
import { RateLimitGuard, RateLimitModule } from '@nest-hardening/rate-limit';

import type { ProfileServiceConfig } from './config/profile-service.config';
import { PROFILE_SERVICE_MIGRATIONS_DIR } from './profile/profile-migrations';
import { ProfileController } from './profile/profile.controller';
import { ProfileRepository } from './profile/profile.repository';

/** A downstream resource service: verifies tokens and sessions itself (defence in depth). */
@Module({})
export class ProfileServiceModule {
  static register(config: ProfileServiceConfig): DynamicModule {
    return {
      module: ProfileServiceModule,
      imports: [
        ...serviceModules({ service: 'profile-service', env: config, pseudonymSecret: config.pseudonymSecret }),
        databaseModule(config, PROFILE_SERVICE_MIGRATIONS_DIR),
        tokenVerifierModule(config, config.jwksUrl),
        RateLimitModule.forRoot({
          policies: [
            {
              name: 'profile',
              limit: config.RATE_LIMIT_PROFILE_LIMIT,
              ttlMs: config.RATE_LIMIT_PROFILE_WINDOW_MS,
              tracker: 'user',
              scope: 'all-routes',
              onRedisError: config.RATE_LIMIT_PROFILE_ON_REDIS_ERROR,
            },
          ],
          // The gateway charges this budget for the requests it signs (same settings on both).
          gatewayEnforced: ['profile'],
        }),
        HealthModule.forRoot({ redis: true, database: true }),
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
