/**
 * The app under test of `bench/ratelimit.bench.ts`, run as a child process so the load generator
 * and the app do not share an event loop. One route, `GET /bench/ping`, in one of three set-ups:
 *
 *   bare     no guard at all
 *   guarded  the gateway's guard stack: AccessTokenGuard (JWT verify + session check) then
 *            RateLimitGuard with `general` (per user) and `ipCeiling`
 *   limiter  RateLimitGuard alone (general per user + ipCeiling), the user taken from a header like
 *            in `stock`: isolates the rate limiter from token verification
 *   stock    stock @nestjs/throttler ThrottlerGuard + @nest-lab/throttler-storage-redis, with a
 *            per-user and a per-IP throttler, no authentication
 *   parked   a guard that holds each request until one Redis PING per event-loop turn answers, like
 *            the batched limiter's round trip, and decides nothing: the cost of waiting for Redis
 *
 * Settings come from environment variables (BENCH_MODE, BENCH_REDIS_URL, BENCH_KEY_PREFIX,
 * BENCH_JWKS_URL, BENCH_REVOCATION_CACHE_MS). Prints `READY <port>` on stdout once listening, and its
 * GC pauses so far when the bench asks over IPC.
 */
import 'reflect-metadata';

import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import {
  Controller,
  Get,
  Injectable,
  Module,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { Request } from 'express';
import { Redis } from 'ioredis';

import { AccessTokenGuard, AuthModule } from '@nest-hardening/auth';
import { configureHttpApp, ExpressHttpAdapter } from '@nest-hardening/http-app';
import { DEFAULT_RATE_LIMIT_POLICIES, RateLimitGuard, RateLimitModule } from '@nest-hardening/rate-limit';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { SessionRevocationModule } from '@nest-hardening/sessions';

import { reportGcPauses } from './gc-pauses';

type Mode = 'bare' | 'guarded' | 'limiter' | 'stock' | 'parked';

const mode = (process.env.BENCH_MODE ?? 'bare') as Mode;
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = process.env.BENCH_KEY_PREFIX ?? 'bench:';
const NEVER = 1_000_000_000;
const WINDOW_MS = 15 * 60 * 1000;

@Controller('bench')
class PingController {
  @Get('ping')
  ping(): { ok: true } {
    return { ok: true };
  }
}

/** For `limiter`: the user named by a header (no verification: a bench stand-in, never do this in an app). */
@Injectable()
class HeaderUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & { user?: { id: string } }>();
    const id = req.headers['x-bench-user'];
    if (typeof id === 'string') req.user = { id };
    return true;
  }
}

/**
 * For `parked`: every request waits for a Redis round trip shared by its event-loop turn (one PING,
 * sent at `setImmediate` like `ConsumeBatcher`'s call), then passes. No rate limiting.
 */
@Injectable()
class ParkedGuard implements CanActivate {
  private readonly redis = new Redis(redisUrl, { connectionName: 'bench:parked' });
  private waiting: ((admitted: boolean) => void)[] = [];

  canActivate(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.waiting.push(resolve) === 1) setImmediate(() => this.release());
    });
  }

  private release(): void {
    const turn = this.waiting;
    this.waiting = [];
    void this.redis.ping().then(() => turn.forEach((resolve) => resolve(true)));
  }
}

function guardedImports(withAuth: boolean): DynamicModule[] {
  return [
    RedisModule.forRoot({ url: redisUrl, keyPrefix, commandTimeoutMs: 500, connectionName: 'bench', isGlobal: true }),
    SecurityEventsModule.forRoot({ service: 'bench', pseudonymKey: 'bench-pseudonym-key-0123456789abcdef', isGlobal: true }),
    ...(withAuth
      ? [
          SessionRevocationModule.forRoot({ cacheTtlMs: Number(process.env.BENCH_REVOCATION_CACHE_MS ?? 500), isGlobal: true }),
          AuthModule.forRoot({ issuer: 'auth-service', audience: 'payments-api', jwksUrl: process.env.BENCH_JWKS_URL }),
        ]
      : []),
    RateLimitModule.forRoot({
      policies: DEFAULT_RATE_LIMIT_POLICIES.filter((policy) => policy.name === 'general'),
      overrides: { general: { limit: NEVER, ttlMs: WINDOW_MS } },
      ipCeiling: { limit: NEVER, ttlMs: WINDOW_MS },
    }),
  ];
}

function stockImports(): DynamicModule[] {
  const redis = new Redis(redisUrl, { keyPrefix, connectionName: 'bench:stock' });
  return [
    ThrottlerModule.forRoot({
      throttlers: [
        // The same two budgets as the guarded set-up; without authentication the user comes from a header.
        {
          name: 'user',
          limit: NEVER,
          ttl: WINDOW_MS,
          getTracker: (req) => `user:${String((req as Request).headers['x-bench-user'] ?? 'anonymous')}`,
        },
        { name: 'ip', limit: NEVER, ttl: WINDOW_MS },
      ],
      storage: new ThrottlerStorageRedisService(redis),
    }),
  ];
}

@Module({})
class BenchModule {
  static register(): DynamicModule {
    const guards: Provider[] =
      mode === 'guarded'
        ? [
            { provide: APP_GUARD, useExisting: AccessTokenGuard },
            { provide: APP_GUARD, useClass: RateLimitGuard },
          ]
        : mode === 'limiter'
          ? [
              { provide: APP_GUARD, useClass: HeaderUserGuard },
              { provide: APP_GUARD, useClass: RateLimitGuard },
            ]
          : mode === 'stock'
            ? [{ provide: APP_GUARD, useClass: ThrottlerGuard }]
            : mode === 'parked'
              ? [{ provide: APP_GUARD, useClass: ParkedGuard }]
              : [];
    return {
      module: BenchModule,
      imports: mode === 'guarded' || mode === 'limiter' ? guardedImports(mode === 'guarded') : mode === 'stock' ? stockImports() : [],
      controllers: [PingController],
      providers: guards,
    };
  }
}

async function main(): Promise<void> {
  reportGcPauses();
  const app = await NestFactory.create(BenchModule.register(), new ExpressHttpAdapter(), { logger: ['error'], bodyParser: false });
  // The same HTTP settings as the gateway in every set-up, so only the guards differ.
  configureHttpApp(app, { trustedProxies: [], parseBodies: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.stdout.write(`READY ${address.port}\n`);
  const stop = () => void app.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench app (${mode}) failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
