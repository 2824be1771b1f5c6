import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ThrottlerGuard } from '@nestjs/throttler';
import request from 'supertest';

import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { RateLimitPolicy } from './rate-limit-policy.decorator';
import { RateLimitModule } from './rate-limit.module';
import { SkipRateLimit } from './skip-rate-limit.decorator';

@Controller()
class StockController {
  @Get('hello') hello() {
    return { hello: 'world' };
  }

  @Post('login') @RateLimitPolicy('auth') login() {
    return { ok: true };
  }

  @Get('health') @SkipRateLimit() health() {
    return { ok: true };
  }
}

/**
 * docs/rate-limiting.md: RateLimitModule provides "the policies as stock throttler options, for apps
 * that mix the stock guard with RateLimitGuard". The stock guard has no opt-in: each throttler it is
 * given applies to every route, so the opt-in policies (auth: 5 / 15 min) must reach it only on the
 * routes that opt in, as RateLimitGuard applies them.
 */
describe('the stock ThrottlerGuard over the throttler options RateLimitModule provides', () => {
  const keyPrefix = uniqueKeyPrefix('rl-stock-options');
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: TEST_REDIS_URL, keyPrefix, commandTimeoutMs: 1_000 }),
        SecurityEventsModule.forRoot({ service: 'rl-stock-options', pseudonymKey: 'test-key' }),
        RateLimitModule.forRoot({ overrides: { general: { limit: 100, ttlMs: 60_000 } } }),
      ],
      controllers: [StockController],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await deleteKeysWithPrefix(keyPrefix);
  });

  it('charges an ordinary route only the all-routes policies, not the opt-in auth budget (5 / 15 min)', async () => {
    for (let i = 0; i < 8; i++) {
      const response = await request(app.getHttpServer()).get('/hello');
      expect(response.status).toBe(200);
      expect(response.headers['x-ratelimit-limit-auth']).toBeUndefined();
    }
  });

  it('still charges the auth budget on a route that opts in with @RateLimitPolicy', async () => {
    for (let i = 0; i < 5; i++) await request(app.getHttpServer()).post('/login').expect(201);
    await request(app.getHttpServer()).post('/login').expect(429);
  });

  it('honours @SkipRateLimit()', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(Object.keys(response.headers).filter((name) => name.startsWith('x-ratelimit'))).toEqual([]);
  });
});
