import { Controller, Get, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';

import { DomainErrorFilter } from '@nest-hardening/errors';
import { RateLimitGuard, RateLimitModule } from '@nest-hardening/rate-limit';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';

@Controller()
class HelloController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

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
    RateLimitModule.forRootAsync({ useFactory: () => ({ overrides: { general: { limit: 3, ttlMs: 60_000 } } }) }),
  ],
  controllers: [HelloController],
  providers: [
    { provide: APP_GUARD, useClass: RateLimitGuard },
    // The one error filter: status, body and Retry-After of every refusal.
    { provide: APP_FILTER, useClass: DomainErrorFilter },
  ],
})
export class AppModule {}
