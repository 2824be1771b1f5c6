import { Body, Controller, HttpCode, Injectable, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import request from 'supertest';

import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import { InvalidCredentialsError } from './invalid-credentials.error';
import { LockoutSettlementInterceptor } from './lockout-settlement.interceptor';
import { isCountableEmail } from './lockout.email';
import { LockoutGuard } from './lockout.guard';

type NestedBody = { credentials?: { email?: unknown; password?: unknown } };

/** What an adopter writes for a login body of another shape: one override of the documented extension point. */
@Injectable()
class NestedBodyLockoutGuard extends LockoutGuard {
  protected override getEmail(req: Request): string | undefined {
    const email = (req.body as NestedBody | undefined)?.credentials?.email;
    return isCountableEmail(email) ? email : undefined;
  }
}

@Controller()
class NestedLoginController {
  // As the lockout README says: the subclass in place of @LockoutProtected()'s guard, with its settlement interceptor.
  @Post('nested-login')
  @HttpCode(200)
  @UseGuards(NestedBodyLockoutGuard)
  @UseInterceptors(LockoutSettlementInterceptor)
  login(@Body() body: NestedBody) {
    if (body.credentials?.password !== TEST_PASSWORD) throw new InvalidCredentialsError();
    return { ok: true };
  }
}

describe('LockoutGuard subclass overriding getEmail (another body shape)', () => {
  let t: LoginTestApp;

  beforeAll(async () => {
    t = await startLoginTestApp({ controllers: [NestedLoginController] }, ['nested@example.com']);
  });
  afterAll(() => t?.close());

  const login = (password: string) =>
    request(t.app.getHttpServer())
      .post('/nested-login')
      .set('X-Forwarded-For', '203.0.113.61')
      .send({ credentials: { email: 'nested@example.com', password } });

  it('counts the email it reads: after 5 wrong passwords the right one gets 429', async () => {
    expect((await login(TEST_PASSWORD)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await login('wrong password')).status).toBe(401);
    const locked = await login(TEST_PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });
});
