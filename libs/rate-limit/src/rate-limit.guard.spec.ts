import { Controller, Get, Injectable, Logger, Post, type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { SkipThrottle, Throttle } from '@nestjs/throttler';
import type { Request } from 'express';
import request from 'supertest';

import { applyTrustedProxies } from '@nest-hardening/client-ip';
import { DomainErrorFilter } from '@nest-hardening/errors';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEvents, SecurityEventsModule } from '@nest-hardening/security-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { RateLimitPolicy } from './rate-limit-policy.decorator';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitModule } from './rate-limit.module';
import type { RateLimitPolicyDefinition } from './rate-limit.policy';
import { SkipRateLimit } from './skip-rate-limit.decorator';

/** Stands in for the JWT guard: trusts `x-test-user` as an already verified user id. */
@Injectable()
class TestAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string>; user?: { id: string } }>();
    if (req.headers['x-test-user']) req.user = { id: req.headers['x-test-user'] };
    return true;
  }
}

@Controller()
class TestController {
  @Get('a') a() {
    return { ok: true };
  }
  @Get('b') b() {
    return { ok: true };
  }
  @SkipRateLimit() @Get('health') health() {
    return { ok: true };
  }
  @RateLimitPolicy('auth') @Post('login') login() {
    return { ok: true };
  }
  @RateLimitPolicy('admin') @Get('accounts') accounts() {
    return { ok: true };
  }
  @Throttle({ general: { limit: 2, ttl: 60_000 } }) @Get('tight') tight() {
    return { ok: true };
  }
  @Throttle({ general: { limit: 10, ttl: 1_000 } }) @Get('burst') burst() {
    return { ok: true };
  }
  @Throttle({
    general: {
      limit: async (ctx: ExecutionContext) => Number(ctx.switchToHttp().getRequest<Request>().headers['x-test-limit']),
      ttl: 60_000,
    },
  })
  @Get('per-request')
  perRequest() {
    return { ok: true };
  }
  @SkipThrottle({ general: true }) @Get('no-general') noGeneral() {
    return { ok: true };
  }
  @SkipThrottle() @RateLimitPolicy('auth') @Post('stock-skip-login') stockSkipLogin() {
    return { ok: true };
  }
  @RateLimitPolicy('nope') @Get('misconfigured') misconfigured() {
    return { ok: true };
  }
  @RateLimitPolicy('otp') @Post('otp') otp() {
    return { ok: true };
  }
}

const POLICIES: RateLimitPolicyDefinition[] = [
  { name: 'general', limit: 10, ttlMs: 60_000, tracker: 'user-or-ip', scope: 'all-routes', onRedisError: 'memory' },
  { name: 'auth', limit: 2, ttlMs: 60_000, tracker: 'ip', scope: 'opt-in', onRedisError: 'fail-closed' },
  { name: 'admin', limit: 3, ttlMs: 60_000, tracker: 'user', scope: 'opt-in', onRedisError: 'memory' },
  // A window (0.5 s) shorter than its block (3 s).
  { name: 'otp', limit: 2, ttlMs: 500, tracker: 'ip', scope: 'opt-in', onRedisError: 'memory', blockMs: 3_000 },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RateLimitGuard over a real Nest app and Redis', () => {
  let app: INestApplication;
  const prefix = uniqueKeyPrefix('rate-limit-guard');
  let ipCounter = 0;
  /** A client address of its own per test, sent through the trusted loopback proxy. */
  const nextIp = () => `198.51.100.${++ipCounter}`;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: TEST_REDIS_URL, keyPrefix: prefix, commandTimeoutMs: 1000, isGlobal: true }),
        SecurityEventsModule.forRoot({ service: 'rate-limit-test', pseudonymKey: 'test-key', isGlobal: true }),
        RateLimitModule.forRoot({ policies: POLICIES }),
      ],
      controllers: [TestController],
      providers: [
        { provide: APP_GUARD, useClass: TestAuthGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new DomainErrorFilter());
    applyTrustedProxies(app, ['loopback']);
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await deleteKeysWithPrefix(prefix);
  });

  it('blockMs: refuses for the block, not the window, reports the block in its headers, and hits never extend it', async () => {
    const ip = nextIp();
    await http().post('/otp').set('X-Forwarded-For', ip).expect(201);
    await http().post('/otp').set('X-Forwarded-For', ip).expect(201);
    const refused = await http().post('/otp').set('X-Forwarded-For', ip).expect(429);
    const blockedAt = Date.now();
    expect(refused.headers['retry-after']).toBe('3');
    expect(refused.headers['ratelimit']).toBe('"otp";r=0;t=3');
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(refused.headers['x-ratelimit-reset']).toBe('3');

    // The window is over; the block is not, and these requests must not move its end.
    await sleep(Math.max(0, blockedAt + 1_000 - Date.now()));
    for (let i = 0; i < 3; i++) {
      const during = await http().post('/otp').set('X-Forwarded-For', ip).expect(429);
      expect(Number(during.headers['retry-after'])).toBeLessThanOrEqual(2);
    }

    await sleep(Math.max(0, blockedAt + 3_500 - Date.now()));
    const after = await http().post('/otp').set('X-Forwarded-For', ip).expect(201);
    expect(after.headers['ratelimit']).toBe('"otp";r=1;t=1');
  });

  it('sets X-RateLimit and IETF RateLimit headers on a 2xx response', async () => {
    const res = await http().get('/a').set('X-Forwarded-For', nextIp()).expect(200);
    expect(res.headers['x-ratelimit-limit']).toBe('10');
    expect(res.headers['x-ratelimit-remaining']).toBe('9');
    expect(res.headers['x-ratelimit-reset']).toBe('60');
    expect(res.headers['ratelimit-policy']).toBe('"general";q=10;w=60');
    expect(res.headers['ratelimit']).toBe('"general";r=9;t=60');
  });

  it('reports the most restrictive policy when several apply', async () => {
    const res = await http().post('/login').set('X-Forwarded-For', nextIp()).expect(201);
    expect(res.headers['ratelimit-policy']).toBe('"general";q=10;w=60, "auth";q=2;w=60');
    expect(res.headers['ratelimit']).toBe('"auth";r=1;t=60');
    expect(res.headers['x-ratelimit-limit']).toBe('2');
    expect(res.headers['x-ratelimit-remaining']).toBe('1');
  });

  it('answers 429 with Retry-After, the limit headers and a JSON body once the budget is spent', async () => {
    const ip = nextIp();
    await http().post('/login').set('X-Forwarded-For', ip).expect(201);
    await http().post('/login').set('X-Forwarded-For', ip).expect(201);
    const res = await http().post('/login').set('X-Forwarded-For', ip).expect(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.body).toEqual({ statusCode: 429, message: expect.any(String), retryAfter });
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
    expect(res.headers['ratelimit']).toMatch(/^"auth";r=0;t=(59|60)$/);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('retry-after-'))).toEqual([]);
  });

  it('shares one general budget across different handlers', async () => {
    const ip = nextIp();
    for (let i = 0; i < 10; i++)
      await http()
        .get(i % 2 ? '/a' : '/b')
        .set('X-Forwarded-For', ip)
        .expect(200);
    await http().get('/a').set('X-Forwarded-For', ip).expect(429);
    await http().get('/b').set('X-Forwarded-For', ip).expect(429);
  });

  it('never limits a @SkipRateLimit() route and does not spend the budget there', async () => {
    const ip = nextIp();
    for (let batch = 0; batch < 10; batch++) {
      const responses = await Promise.all(Array.from({ length: 50 }, () => http().get('/health').set('X-Forwarded-For', ip)));
      for (const res of responses) {
        expect(res.status).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
    }
    const res = await http().get('/a').set('X-Forwarded-For', ip).expect(200);
    expect(res.headers['x-ratelimit-remaining']).toBe('9');
  });

  it('honours a stock @Throttle override of a policy limit', async () => {
    const ip = nextIp();
    const first = await http().get('/tight').set('X-Forwarded-For', ip).expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('2');
    expect(first.headers['ratelimit-policy']).toBe('"general";q=2;w=60');
    await http().get('/tight').set('X-Forwarded-For', ip).expect(200);
    await http().get('/tight').set('X-Forwarded-For', ip).expect(429);
  });

  it('counts a route that overrides the window length in a window of its own: the client cannot shorten the shared one', async () => {
    const ip = nextIp();
    const a = () => http().get('/a').set('X-Forwarded-For', ip);
    // The 1 s route first: were its length the shared window's, that window would end in 1 s.
    expect((await http().get('/burst').set('X-Forwarded-For', ip)).headers['ratelimit-policy']).toBe('"general";q=10;w=1');
    for (let i = 0; i < 10; i++) await a().expect(200);
    await a().expect(429);
    await sleep(1_100);
    await a().expect(429); // the 60 s window of /a still holds
    await http().get('/burst').set('X-Forwarded-For', ip).expect(200); // its own 1 s window has started afresh
  });

  it('resolves a @Throttle override given as a function on every request', async () => {
    const ip = nextIp();
    const first = await http().get('/per-request').set('X-Forwarded-For', ip).set('x-test-limit', '3').expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    await http().get('/per-request').set('X-Forwarded-For', ip).set('x-test-limit', '1').expect(429);
    const res = await http().get('/per-request').set('X-Forwarded-For', ip).set('x-test-limit', '5').expect(200);
    expect(res.headers['x-ratelimit-remaining']).toBe('3');
    expect(res.headers['ratelimit-policy']).toBe('"general";q=5;w=60');
  });

  it('honours stock @SkipThrottle({ general: true })', async () => {
    const ip = nextIp();
    for (let i = 0; i < 12; i++) {
      const res = await http().get('/no-general').set('X-Forwarded-For', ip).expect(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('stock @SkipThrottle() skips the all-routes policies but not an explicit opt-in policy', async () => {
    const ip = nextIp();
    const res = await http().post('/stock-skip-login').set('X-Forwarded-For', ip).expect(201);
    expect(res.headers['ratelimit-policy']).toBe('"auth";q=2;w=60');
    await http().post('/stock-skip-login').set('X-Forwarded-For', ip).expect(201);
    await http().post('/stock-skip-login').set('X-Forwarded-For', ip).expect(429);
  });

  it('applies an opt-in policy only on decorated routes', async () => {
    const ip = nextIp();
    for (let i = 0; i < 4; i++) {
      const res = await http().get('/a').set('X-Forwarded-For', ip).expect(200);
      expect(res.headers['ratelimit-policy']).toBe('"general";q=10;w=60');
    }
    await http().post('/login').set('X-Forwarded-For', ip).expect(201);
    await http().post('/login').set('X-Forwarded-For', ip).expect(201);
    await http().post('/login').set('X-Forwarded-For', ip).expect(429);
    await http().get('/a').set('X-Forwarded-For', ip).expect(200);
  });

  it('counts an authenticated client per user across IPs, and users behind one IP separately', async () => {
    const sharedIp = nextIp();
    for (let i = 0; i < 10; i++) {
      await http().get('/a').set('X-Forwarded-For', nextIp()).set('x-test-user', 'user-1').expect(200);
    }
    await http().get('/a').set('X-Forwarded-For', sharedIp).set('x-test-user', 'user-1').expect(429);
    await http().get('/a').set('X-Forwarded-For', sharedIp).set('x-test-user', 'user-2').expect(200);
    await http().get('/a').set('X-Forwarded-For', sharedIp).expect(200);
  });

  it('keeps the per-IP auth budget per IP even for authenticated users', async () => {
    const ip = nextIp();
    await http().post('/login').set('X-Forwarded-For', ip).set('x-test-user', 'user-3').expect(201);
    await http().post('/login').set('X-Forwarded-For', ip).set('x-test-user', 'user-4').expect(201);
    await http().post('/login').set('X-Forwarded-For', ip).set('x-test-user', 'user-5').expect(429);
  });

  it('limits a per-user policy per user', async () => {
    const ip = nextIp();
    for (let i = 0; i < 3; i++) await http().get('/accounts').set('X-Forwarded-For', ip).set('x-test-user', 'admin-1').expect(200);
    await http().get('/accounts').set('X-Forwarded-For', ip).set('x-test-user', 'admin-1').expect(429);
    await http().get('/accounts').set('X-Forwarded-For', ip).set('x-test-user', 'admin-2').expect(200);
  });

  it('groups IPv6 clients by /64', async () => {
    for (let i = 1; i <= 10; i++) await http().get('/a').set('X-Forwarded-For', `2001:db8:1:2::${i}`).expect(200);
    await http().get('/a').set('X-Forwarded-For', '2001:db8:1:2:ffff::1').expect(429);
    await http().get('/a').set('X-Forwarded-For', '2001:db8:1:3::1').expect(200);
  });

  it('reports a tracker that keeps hitting 429 once per window, pseudonymised', async () => {
    const events = app.get(SecurityEvents);
    const emit = jest.spyOn(events, 'emit');
    try {
      const ip = nextIp();
      for (let i = 0; i < 2; i++) await http().post('/login').set('X-Forwarded-For', ip).expect(201);
      for (let i = 0; i < 5; i++) await http().post('/login').set('X-Forwarded-For', ip).expect(429);
      const exceeded = emit.mock.calls.map(([event]) => event).filter((event) => event.type === 'rate_limit_exceeded');
      expect(exceeded).toHaveLength(1);
      expect(exceeded[0]).toMatchObject({ rule: 'auth', pseudonymous: { tracker: `ip:${ip}` } });
      expect(JSON.stringify(exceeded[0].details)).not.toContain(ip);
    } finally {
      emit.mockRestore();
    }
  });

  // Each refused request wrote a warning: a client over its budget chose how much the log grew.
  it('writes one warning per window for a tracker it refuses, however many requests it sends', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const ip = nextIp();
      for (let i = 0; i < 2; i++) await http().post('/login').set('X-Forwarded-For', ip).expect(201);
      for (let i = 0; i < 20; i++) await http().post('/login').set('X-Forwarded-For', ip).expect(429);
      const lines = warn.mock.calls.map(([line]) => line as { event?: string; securityEvent?: string });
      expect(lines.map((line) => line.securityEvent ?? line.event)).toEqual(['rate_limit_exceeded']);
    } finally {
      warn.mockRestore();
    }
  });

  it('fails a route that names an unknown policy instead of leaving it unprotected', async () => {
    await http().get('/misconfigured').set('X-Forwarded-For', nextIp()).expect(500);
  });
});
