import { Controller, Get, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ThrottlerGuard } from '@nestjs/throttler';
import request from 'supertest';

import { DomainErrorFilter } from '@nest-hardening/errors';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { watchMemoryStoreWarnings } from '@nest-hardening/testing';

import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitModule } from './rate-limit.module';
import type { RateLimitPolicyDefinition } from './rate-limit.policy';

@Controller()
class PingController {
  @Get('ping') ping() {
    return { ok: true };
  }
}

const POLICIES: RateLimitPolicyDefinition[] = [
  { name: 'general', limit: 3, ttlMs: 60_000, tracker: 'ip', scope: 'all-routes', onRedisError: 'memory' },
];
/** An app with the memory store and no RedisModule at all, as an adopter's unit test would build it. */
async function startMemoryApp(guard: typeof RateLimitGuard | typeof ThrottlerGuard): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      SecurityEventsModule.forRoot({ service: 'memory-store-test', pseudonymKey: 'test-key', isGlobal: true }),
      RateLimitModule.forRoot({ store: 'memory', policies: POLICIES }),
    ],
    controllers: [PingController],
    providers: [{ provide: APP_GUARD, useClass: guard }],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useGlobalFilters(new DomainErrorFilter());
  await app.listen(0, '127.0.0.1');
  return app;
}

describe("RateLimitModule with store: 'memory' (adopters' unit tests, no Redis)", () => {
  const memoryWarnings = watchMemoryStoreWarnings();

  it('limits with RateLimitGuard without any Redis, and does not warn outside production', async () => {
    process.env.NODE_ENV = 'test';
    const app = await startMemoryApp(RateLimitGuard);
    try {
      for (let i = 0; i < 3; i++) await request(app.getHttpServer()).get('/ping').expect(200);
      const limited = await request(app.getHttpServer()).get('/ping').expect(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
    expect(memoryWarnings()).toEqual([]);
  });

  it('gives the stock ThrottlerGuard an in-memory storage too', async () => {
    process.env.NODE_ENV = 'test';
    const app = await startMemoryApp(ThrottlerGuard);
    try {
      for (let i = 0; i < 3; i++) await request(app.getHttpServer()).get('/ping').expect(200);
      await request(app.getHttpServer()).get('/ping').expect(429);
    } finally {
      await app.close();
    }
  });

  it('warns at start-up when NODE_ENV=production', async () => {
    process.env.NODE_ENV = 'production';
    const app = await startMemoryApp(RateLimitGuard);
    await app.close();
    expect(memoryWarnings()).toContainEqual(expect.stringMatching(/^RateLimitModule uses/));
  });

  it("without store: 'memory' and without RedisModule, start-up fails with a message saying what is missing", async () => {
    const compiling = Test.createTestingModule({
      imports: [
        SecurityEventsModule.forRoot({ service: 'memory-store-test', pseudonymKey: 'test-key', isGlobal: true }),
        RateLimitModule.forRoot({ policies: POLICIES }),
      ],
    }).compile();
    await expect(compiling).rejects.toThrow(/RateLimitModule needs the global RedisModule/);
  });
});
