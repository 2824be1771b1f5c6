import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';

import { AccessTokenGuard, AuthModule, RolesGuard } from '@nest-hardening/auth';
import { DomainErrorFilter } from '@nest-hardening/errors';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { SessionRevocationModule, SessionsModule } from '@nest-hardening/sessions';

import { AccessTokens, AccessTokensModule, AUDIENCE, ISSUER } from './access-tokens';
import { AuthController } from './auth.controller';

const DAY = 24 * 60 * 60 * 1000;

@Module({
  imports: [
    RedisModule.forRootAsync({
      useFactory: () => ({
        url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        keyPrefix: process.env.REDIS_KEY_PREFIX ?? 'example:',
        commandTimeoutMs: 500,
      }),
    }),
    SecurityEventsModule.forRoot({ service: 'example', pseudonymKey: process.env.PSEUDONYM_KEY ?? 'example-only-pseudonym-key' }),
    AccessTokensModule,
    // This app signs its tokens itself, so it hands AuthModule its public keys instead of a JWKS url.
    AuthModule.forRootAsync({
      imports: [AccessTokensModule],
      inject: [AccessTokens],
      useFactory: (tokens: AccessTokens) => ({ issuer: ISSUER, audience: AUDIENCE, publicKeys: () => tokens.publicJwks() }),
    }),
    SessionsModule.forRoot({
      refreshTokenSecret: process.env.REFRESH_TOKEN_SECRET ?? 'example-only-refresh-token-secret-0123456789',
      fingerprintSecret: process.env.FINGERPRINT_SECRET ?? 'example-only-fingerprint-secret-0123456789',
      idleTtlMs: 7 * DAY,
      absoluteTtlMs: 30 * DAY,
      reuseGraceMs: 10_000,
      maxSessionsPerUser: 100,
      fingerprint: { userAgent: 'strict', ip: 'log', ipv4PrefixBits: 24, ipv6PrefixBits: 64 },
    }),
    SessionRevocationModule.forRoot({ cacheTtlMs: 500, isGlobal: true }),
  ],
  controllers: [AuthController],
  providers: [
    { provide: APP_GUARD, useExisting: AccessTokenGuard },
    { provide: APP_GUARD, useExisting: RolesGuard },
    { provide: APP_FILTER, useClass: DomainErrorFilter },
  ],
})
export class AppModule {}
