import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

import { AccessTokenGuard, AuthenticationRequiredGuard } from '@nest-hardening/auth';
import { HealthModule } from '@nest-hardening/health';
import { serviceModules, tokenVerifierModule } from '@nest-hardening/http-app';
import { DEFAULT_RATE_LIMIT_POLICIES, RateLimitGuard, RateLimitModule, type RateLimitPolicyDefinition } from '@nest-hardening/rate-limit';

import { API_GATEWAY_CONFIG, type ApiGatewayConfig } from './config/api-gateway.config';
import { GatewayJwksController } from './keys/jwks.controller';
import { GatewayController } from './proxy/gateway.controller';
import { Upstreams } from './proxy/upstreams';

/**
 * profile-service's own per-user budget, enforced here on the routes that reach it: the service
 * skips it for requests the gateway signed, so a proxied request spends one Redis call for both.
 */
function profileServicePolicy(config: ApiGatewayConfig): RateLimitPolicyDefinition {
  return {
    name: 'profile',
    limit: config.RATE_LIMIT_PROFILE_LIMIT,
    ttlMs: config.RATE_LIMIT_PROFILE_WINDOW_MS,
    tracker: 'user',
    scope: 'opt-in',
    onRedisError: config.RATE_LIMIT_PROFILE_ON_REDIS_ERROR,
  };
}

/** The single entry point: verifies tokens, enforces the rate-limit policies, proxies to services. */
@Module({})
export class ApiGatewayModule {
  static register(config: ApiGatewayConfig): DynamicModule {
    return {
      module: ApiGatewayModule,
      imports: [
        ...serviceModules({ service: 'api-gateway', env: config, pseudonymSecret: config.pseudonymSecret }),
        // Refused requests are answered after the rate limiter, so they spend their IP's budget:
        // a client cannot send invalid tokens without limit.
        tokenVerifierModule(config, config.jwksUrl, { deferRejection: true }),
        RateLimitModule.forRoot({
          policies: [
            ...DEFAULT_RATE_LIMIT_POLICIES.filter((p) => ['general', 'auth', 'refresh', 'malformed'].includes(p.name)),
            profileServicePolicy(config),
          ],
          overrides: {
            general: {
              limit: config.RATE_LIMIT_GENERAL_LIMIT,
              ttlMs: config.RATE_LIMIT_GENERAL_WINDOW_MS,
              onRedisError: config.RATE_LIMIT_GENERAL_ON_REDIS_ERROR,
            },
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
            malformed: { limit: config.RATE_LIMIT_MALFORMED_LIMIT, ttlMs: config.RATE_LIMIT_MALFORMED_WINDOW_MS },
          },
          ipCeiling:
            config.RATE_LIMIT_IP_CEILING_LIMIT > 0
              ? { limit: config.RATE_LIMIT_IP_CEILING_LIMIT, ttlMs: config.RATE_LIMIT_IP_CEILING_WINDOW_MS }
              : false,
        }),
        HealthModule.forRoot({ redis: true, database: false }),
      ],
      controllers: [GatewayController, GatewayJwksController],
      providers: [
        { provide: API_GATEWAY_CONFIG, useValue: config },
        Upstreams,
        // Order matters: the principal is verified before the rate limiter picks its budget, and a
        // refused token is answered only after the request was counted against its IP.
        { provide: APP_GUARD, useExisting: AccessTokenGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_GUARD, useExisting: AuthenticationRequiredGuard },
      ],
    };
  }
}
