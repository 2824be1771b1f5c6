import { Body, Controller, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';

import { DomainErrorFilter } from '@nest-hardening/errors';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { InvalidCredentialsError } from './invalid-credentials.error';
import { LockoutProtected } from './lockout-protected.decorator';
import { normalizeLoginEmail } from './lockout.email';
import { LockoutModule } from './lockout.module';

/** The adopter's user table: an internal account whose address has no top-level domain. */
const USERS = new Map([['admin@localhost', 'correct horse battery staple']]);

/** The login controller of libs/lockout/README.md: `@LockoutProtected()`, InvalidCredentialsError on a wrong password. */
@Controller()
class LoginController {
  @Post('login')
  @HttpCode(200)
  @LockoutProtected()
  login(@Body() body: { email: string; password: string }) {
    if (USERS.get(normalizeLoginEmail(String(body.email))) !== body.password) throw new InvalidCredentialsError();
    return { ok: true };
  }
}

/**
 * The guard counts only a body `email` that `isCountableEmail` accepts and lets anything else through
 * uncounted, trusting the route's validation to answer 400. The README's handler has no such
 * validation: an account whose identifier the guard does not read as an email could be guessed
 * without limit, and the README's "after 5 wrong passwords ... 429" was silently false for it.
 */
describe('@LockoutProtected() on a login the guard could not count', () => {
  const keyPrefix = uniqueKeyPrefix('lockout-uncounted');
  let app: INestApplication;

  beforeAll(async () => {
    @Module({
      imports: [
        RedisModule.forRoot({ url: TEST_REDIS_URL, keyPrefix, commandTimeoutMs: 1_000 }),
        SecurityEventsModule.forRoot({ service: 'lockout-uncounted', pseudonymKey: 'test-key' }),
        LockoutModule.forRootAsync({ useFactory: () => ({ keySecret: 'test-lockout-secret' }) }),
      ],
      controllers: [LoginController],
      providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await deleteKeysWithPrefix(keyPrefix);
  });

  const login = (email: unknown, password: string) => request(app.getHttpServer()).post('/login').send({ email, password });

  it.each([
    { what: 'an address without a top-level domain', email: 'admin@localhost' },
    { what: 'the address wrapped in an array', email: ['admin@localhost'] },
  ])('never lets a guess succeed uncounted: $what', async ({ email }) => {
    for (let i = 0; i < 6; i++) expect((await login(email, `guess ${i}`)).status).toBe(401);
    const right = await login(email, 'correct horse battery staple');
    expect(right.status).not.toBe(200);
    expect(right.body).not.toEqual({ ok: true });
  });
});
