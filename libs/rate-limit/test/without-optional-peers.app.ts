import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';

import { RateLimitGuard, RateLimitModule } from '@nest-hardening/rate-limit';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';

/**
 * Run by rate-limit.optional-peers.spec.ts in a process where @sentry/nestjs and nodemailer cannot
 * be resolved: boots a minimal rate-limited app (no Sentry, no SMTP) and prints the statuses of
 * four requests against a limit of three.
 */
@Controller()
class PingController {
  @Get('ping') ping() {
    return { ok: true };
  }
}

@Module({
  imports: [
    RedisModule.forRoot({
      url: process.env.TEST_REDIS_URL!,
      keyPrefix: process.env.KEY_PREFIX ?? '',
      commandTimeoutMs: 2000,
      isGlobal: true,
    }),
    SecurityEventsModule.forRoot({
      service: 'throttling-only',
      pseudonymKey: 'fixture-key',
      sentryDsn: process.env.FIXTURE_SENTRY_DSN,
      isGlobal: true,
    }),
    RateLimitModule.forRoot({
      policies: [{ name: 'general', limit: 3, ttlMs: 60_000, tracker: 'ip', scope: 'all-routes', onRedisError: 'memory' }],
    }),
  ],
  controllers: [PingController],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
})
class RateLimitOnlyModule {}

async function main(): Promise<unknown> {
  const app = await NestFactory.create(RateLimitOnlyModule, { logger: false, abortOnError: false });
  try {
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${url}/ping`)).status);
    return { statuses };
  } finally {
    await app.close();
  }
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exitCode = 1;
  },
);
