import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { DomainErrorFilter } from '@nest-hardening/errors';
import { InvalidCredentialsError, LockoutModule, LockoutProtected } from '@nest-hardening/lockout';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';

/**
 * Run by lockout.optional-peers.spec.ts in a process where @sentry/nestjs and nodemailer cannot be
 * resolved: boots a minimal app with one @LockoutProtected() login route (no Sentry, no SMTP) and
 * prints the statuses of four wrong logins then the right one, with a limit of three failures.
 */
@Controller()
class LoginController {
  @Post('login')
  @HttpCode(200)
  @LockoutProtected()
  login(@Body() body: { email: string; password: string }) {
    if (body.password !== 'right') throw new InvalidCredentialsError();
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
    SecurityEventsModule.forRoot({ service: 'lockout-only', pseudonymKey: 'fixture-key', isGlobal: true }),
    LockoutModule.forRoot({ keySecret: 'fixture-key-secret', pairMaxFailures: 3, smtpUrl: process.env.FIXTURE_SMTP_URL }),
  ],
  controllers: [LoginController],
})
class LockoutOnlyModule {}

async function main(): Promise<unknown> {
  const app = await NestFactory.create(LockoutOnlyModule, { logger: false, abortOnError: false });
  try {
    app.useGlobalFilters(new DomainErrorFilter());
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const statuses: number[] = [];
    for (const password of ['wrong', 'wrong', 'wrong', 'wrong', 'right']) {
      const res = await fetch(`${url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'someone@example.com', password }),
      });
      statuses.push(res.status);
    }
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
