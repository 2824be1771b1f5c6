import { Controller, Get, Injectable, type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import request from 'supertest';

import { DomainErrorFilter } from '@nest-hardening/errors';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { RateLimitGuard } from './rate-limit.guard';
import { userTracker } from './rate-limit.keys';
import { RateLimitModule } from './rate-limit.module';

/** Stands in for the JWT guard: `x-test-user` / `x-test-tenant` as an already verified identity. */
@Injectable()
class TestAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string>; user?: { id: string; tenantId: string } }>();
    req.user = { id: req.headers['x-test-user'], tenantId: req.headers['x-test-tenant'] };
    return true;
  }
}

/** What an adopter writes for a tenant-wide budget: one override of the documented extension point. */
@Injectable()
class TenantRateLimitGuard extends RateLimitGuard {
  protected override trackersOf(req: Request): { ip: string; user: string } {
    const tenantId = (req as Request & { user?: { tenantId?: string } }).user?.tenantId;
    const trackers = super.trackersOf(req);
    return tenantId ? { ...trackers, user: userTracker(`tenant-${tenantId}`) } : trackers;
  }
}

@Controller()
class TestController {
  @Get('items') items() {
    return { ok: true };
  }
}

describe('RateLimitGuard subclass overriding trackersOf (per-tenant budget)', () => {
  let app: INestApplication;
  const prefix = uniqueKeyPrefix('rate-limit-tenant');

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: TEST_REDIS_URL, keyPrefix: prefix, commandTimeoutMs: 1000, isGlobal: true }),
        SecurityEventsModule.forRoot({ service: 'rate-limit-test', pseudonymKey: 'test-key', isGlobal: true }),
        RateLimitModule.forRoot({
          policies: [{ name: 'general', limit: 3, ttlMs: 60_000, tracker: 'user-or-ip', scope: 'all-routes', onRedisError: 'memory' }],
        }),
      ],
      controllers: [TestController],
      providers: [
        { provide: APP_GUARD, useClass: TestAuthGuard },
        { provide: APP_GUARD, useClass: TenantRateLimitGuard },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new DomainErrorFilter());
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await deleteKeysWithPrefix(prefix);
  });

  const get = (user: string, tenant: string) =>
    request(app.getHttpServer()).get('/items').set('x-test-user', user).set('x-test-tenant', tenant);

  it('counts every user of a tenant against one budget, and other tenants apart', async () => {
    expect((await get('alice', 'acme')).status).toBe(200);
    expect((await get('bob', 'acme')).status).toBe(200);
    expect((await get('carol', 'acme')).status).toBe(200);
    const refused = await get('dave', 'acme');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get('erin', 'globex')).status).toBe(200);
  });
});
