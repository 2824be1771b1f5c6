import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';

import { applyTrustedProxies } from '@nest-hardening/client-ip';
import { DomainErrorFilter } from '@nest-hardening/errors';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEvents, SecurityEventsModule } from '@nest-hardening/security-events';
import { startRedisServer, type TestRedisServer } from '@nest-hardening/testing';

import { RateLimitPolicy } from './rate-limit-policy.decorator';
import { RateLimitGuard } from './rate-limit.guard';
import { rateLimitKeys } from './rate-limit.keys';
import { RateLimitMetrics } from './rate-limit.metrics';
import { RateLimitModule } from './rate-limit.module';

@Controller()
class OutageController {
  @Get('a') a() {
    return { ok: true };
  }
  @RateLimitPolicy('auth') @Post('login') login() {
    return { ok: true };
  }
}

describe('Rate limiting while Redis is down (own redis-server)', () => {
  let server: TestRedisServer;
  let app: INestApplication;
  let emit: jest.SpyInstance;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    server = await startRedisServer();
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: server.url, keyPrefix: 'outage:', commandTimeoutMs: 300, isGlobal: true }),
        SecurityEventsModule.forRoot({ service: 'rate-limit-test', pseudonymKey: 'test-key', isGlobal: true }),
        RateLimitModule.forRoot({
          policies: [
            { name: 'general', limit: 3, ttlMs: 60_000, tracker: 'user-or-ip', scope: 'all-routes', onRedisError: 'memory' },
            { name: 'auth', limit: 2, ttlMs: 60_000, tracker: 'ip', scope: 'opt-in', onRedisError: 'fail-closed' },
          ],
          unavailableRetryAfterSec: 7,
        }),
      ],
      controllers: [OutageController],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new DomainErrorFilter());
    applyTrustedProxies(app, ['loopback']);
    await app.listen(0, '127.0.0.1');
    emit = jest.spyOn(app.get(SecurityEvents), 'emit');
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('limits with Redis, falls back per policy during the outage, and resumes Redis limiting afterwards', async () => {
    await http().get('/a').set('X-Forwarded-For', '203.0.113.1').expect(200);

    await server.stop();

    // memory policy: still limited, per process.
    for (let i = 0; i < 3; i++) await http().get('/a').set('X-Forwarded-For', '203.0.113.2').expect(200);
    const limited = await http().get('/a').set('X-Forwarded-For', '203.0.113.2').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(59);

    // fail-closed policy: refused with 503 and Retry-After, never admitted.
    for (let i = 0; i < 3; i++) {
      const res = await http().post('/login').set('X-Forwarded-For', '203.0.113.3').expect(503);
      expect(res.headers['retry-after']).toBe('7');
      expect(res.body).toMatchObject({ statusCode: 503, retryAfter: 7 });
    }

    const outageEvents = () => emit.mock.calls.filter(([event]) => event.type === 'rate_limit_redis_unavailable');
    expect(outageEvents()).toHaveLength(1);
    // What Redis's client said (a refused or closed connection), not the client's 503 text.
    expect(outageEvents()[0][0].details).toEqual({ error: expect.not.stringMatching(/^Service temporarily unavailable$/) });
    expect(app.get(RateLimitMetrics).redisDown).toBe(1);

    await server.restart();
    // The client reconnects by itself (retry strategy); poll until the fail-closed route answers again.
    let status = 503;
    for (let attempt = 0; attempt < 100 && status === 503; attempt++) {
      status = (await http().post('/login').set('X-Forwarded-For', '203.0.113.4')).status;
      if (status === 503) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(201);
    expect(app.get(RateLimitMetrics).redisDown).toBe(0);

    // Counting is back in Redis (the restarted server had no scripts loaded: NOSCRIPT was handled).
    const raw = new Redis(server.url);
    try {
      expect(await raw.get(`outage:${rateLimitKeys('ip:203.0.113.4', 'auth').counter}`)).toBe('1');
    } finally {
      raw.disconnect();
    }
    await http().post('/login').set('X-Forwarded-For', '203.0.113.4').expect(201);
    await http().post('/login').set('X-Forwarded-For', '203.0.113.4').expect(429);
    expect(outageEvents()).toHaveLength(1);
  }, 20_000);

  it('does not hang when Redis stops answering: the command timeout bounds the wait', async () => {
    emit.mockClear();
    server.pause();
    try {
      // Each request waits at most the 300 ms command timeout; the jest timeout would catch a hang.
      await http().get('/a').set('X-Forwarded-For', '203.0.113.5').expect(200);
      await http().post('/login').set('X-Forwarded-For', '203.0.113.5').expect(503);
      expect(emit.mock.calls.filter(([event]) => event.type === 'rate_limit_redis_unavailable')).toHaveLength(1);
    } finally {
      server.resume();
    }
  }, 5_000);

  it('does not charge a budget for a request it answered 503 while Redis was too slow to reply', async () => {
    const ip = '203.0.113.6';
    const counters = ['auth', 'general'].map((policy) => `outage:${rateLimitKeys(`ip:${ip}`, policy).counter}`);
    // Any earlier call has read Redis's clock (a process's very first call has no deadline).
    await http().get('/a').set('X-Forwarded-For', '203.0.113.7').expect(200);
    // Redis is slow, not down: the script is on the wire, the 300 ms timeout answers the client.
    await server.stalled(() => http().post('/login').set('X-Forwarded-For', ip).expect(503));
    const raw = new Redis(server.url);
    try {
      // The timed-out script runs once Redis catches up, after its deadline: it must change nothing.
      await new Promise((r) => setTimeout(r, 200));
      expect(await raw.mget(...counters)).toEqual([null, null]);
      // And limiting goes on as before: the login is charged once Redis answers in time.
      await http().post('/login').set('X-Forwarded-For', ip).expect(201);
      expect(await raw.mget(...counters)).toEqual(['1', '1']);
    } finally {
      raw.disconnect();
    }
  }, 5_000);
});
