import { Controller, Get, Injectable, Post, type ExecutionContext, type INestApplication, type Type } from '@nestjs/common';
import { APP_GUARD, type AbstractHttpAdapter } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { SkipThrottle, Throttle, ThrottlerGuard, ThrottlerModule, type ThrottlerOptions } from '@nestjs/throttler';

import { RedisThrottlerStorage } from '@nest-hardening/rate-limit';
import { REDIS_CLIENT, RedisModule, type RedisClient } from '@nest-hardening/redis';

/**
 * The apps of @nestjs/throttler's own e2e suites (test/app, test/multi, test/function-overrides),
 * with the same routes and decorators, their times shortened so that the whole suite waits seconds,
 * not minutes; plus a route whose window is shorter than its block and a guard subclass with its
 * own tracker and key.
 */

@Controller()
@Throttle({ default: { limit: 2, ttl: 10_000 } })
export class AppController {
  @Get()
  test() {
    return { success: true };
  }

  @Get('ignored')
  @SkipThrottle()
  ignored() {
    return { ignored: true };
  }

  @Get('ignore-user-agents')
  ignoreUserAgents() {
    return { ignored: true };
  }
}

/** forRoot's own values: 5 per minute, blocked 1.5 s. */
@Controller('default')
export class DefaultController {
  @Get()
  getDefault() {
    return { success: true };
  }
}

@Throttle({ default: { limit: 2, ttl: 60_000, blockDuration: 1_500 } })
@Controller('limit')
export class LimitController {
  @Get()
  getThrottled() {
    return { success: true };
  }

  @Throttle({ default: { limit: 5, ttl: 60_000, blockDuration: 2_000 } })
  @Get('higher')
  getHigher() {
    return { success: true };
  }
}

/** A window (0.5 s) shorter than the block (3 s): the client must stay out for the block. */
@Throttle({ default: { limit: 1, ttl: 500, blockDuration: 3_000 } })
@Controller('block')
export class BlockController {
  @Get()
  blocked() {
    return { success: true };
  }
}

@Controller('test/throttle')
export class ThrottleTestController {
  @Throttle({ default: { limit: 1, ttl: 1_000, blockDuration: 1_000 } })
  @Post()
  testThrottle() {
    return { code: 'THROTTLE_TEST' };
  }
}

export const CONTROLLER_THROTTLERS: ThrottlerOptions[] = [
  { limit: 5, ttl: 60_000, blockDuration: 1_500, ignoreUserAgents: [/throttler-test/] },
];

@Controller('multi')
export class MultiThrottlerController {
  @Get()
  simpleRoute() {
    return { success: true };
  }

  @SkipThrottle({ short: true })
  @Get('skip-short')
  skipShort() {
    return { success: true };
  }

  @SkipThrottle({ default: true, long: true })
  @Get('skip-default-and-long')
  skipDefAndLong() {
    return { success: true };
  }
}

/** Upstream's 1/s, 2/5 s, 5/min. */
export const MULTI_THROTTLERS: ThrottlerOptions[] = [
  { ttl: 5_000, limit: 2 },
  { name: 'long', ttl: 60_000, limit: 5 },
  { name: 'short', ttl: 1_000, limit: 1 },
];

@Controller('overrides')
export class FunctionOverridesThrottlerController {
  @SkipThrottle({ custom: true })
  @Get()
  simpleRoute() {
    return { success: true };
  }

  @SkipThrottle({ custom: true })
  @Get('1')
  simpleRouteOne() {
    return { success: true };
  }

  @SkipThrottle({ default: true })
  @Get('custom')
  simpleRouteTwo() {
    return { success: true };
  }

  @SkipThrottle({ default: true })
  @Get('custom/1')
  simpleRouteThree() {
    return { success: true };
  }
}

export const OVERRIDES_THROTTLERS: ThrottlerOptions[] = [
  { name: 'default', ttl: 1_000, limit: 2 },
  {
    name: 'custom',
    ttl: 1_000,
    limit: 2,
    getTracker: () => 'customTrackerString',
    // One key for every route: the custom budget is shared across endpoints.
    generateKey: (_context: ExecutionContext, tracker: string, throttlerName: string) => `${throttlerName}-${tracker}`,
  },
];

/** A guard subclass, as an adopter writes one: one budget per tenant header, across all routes. */
@Injectable()
export class TenantThrottlerGuard extends ThrottlerGuard {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the stock guard's own signature
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    return String(req.headers['x-tenant'] ?? 'anonymous');
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `tenant-${tracker}-${throttlerName}`;
  }
}

@Controller('tenant')
export class TenantController {
  @Get('a')
  a() {
    return { success: true };
  }

  @Get('b')
  b() {
    return { success: true };
  }
}

export const TENANT_THROTTLERS: ThrottlerOptions[] = [{ limit: 2, ttl: 60_000 }];

/** The adopter's wiring of docs/rate-limiting.md: `forRootAsync` with the client of `RedisModule`. */
export async function startAsyncConfiguredApp(
  adapter: AbstractHttpAdapter,
  redis: { url: string; keyPrefix: string },
  controllers: Type[],
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ url: redis.url, keyPrefix: redis.keyPrefix, commandTimeoutMs: 1_000, isGlobal: true }),
      ThrottlerModule.forRootAsync({
        inject: [REDIS_CLIENT],
        useFactory: (client: RedisClient) => ({
          throttlers: [{ limit: 2, ttl: 60_000, blockDuration: 120_000 }],
          storage: new RedisThrottlerStorage(client),
        }),
      }),
    ],
    controllers,
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  }).compile();
  return listen(moduleRef.createNestApplication(adapter, { logger: false }));
}

async function listen(app: INestApplication): Promise<{ app: INestApplication; url: string }> {
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}` };
}

/** An app with the stock guard (or a subclass) as APP_GUARD over `storage`, listening on loopback. */
export async function startStockGuardApp(
  adapter: AbstractHttpAdapter,
  throttlers: ThrottlerOptions[],
  storage: RedisThrottlerStorage,
  controllers: Type[],
  guard: Type<ThrottlerGuard> = ThrottlerGuard,
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [ThrottlerModule.forRoot({ throttlers, storage })],
    controllers,
    providers: [{ provide: APP_GUARD, useClass: guard }],
  }).compile();
  return listen(moduleRef.createNestApplication(adapter, { logger: false }));
}
