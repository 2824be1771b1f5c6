import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';

import { DomainErrorFilter } from '@nest-hardening/errors';
import { LockoutModule } from '@nest-hardening/lockout';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';

import { LoginController } from './login.controller';

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
    LockoutModule.forRootAsync({ useFactory: () => ({ keySecret: process.env.LOCKOUT_SECRET ?? 'example-only-lockout-secret' }) }),
  ],
  controllers: [LoginController],
  providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
})
export class AppModule {}
