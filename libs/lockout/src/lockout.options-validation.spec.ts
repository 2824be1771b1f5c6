import { Body, Controller, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';

import { DomainErrorFilter } from '@nest-hardening/errors';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { InvalidCredentialsError } from './invalid-credentials.error';
import type { LockoutModuleOptions } from './lockout-options.interface';
import { LockoutProtected } from './lockout-protected.decorator';
import { LockoutModule } from './lockout.module';

/** The login controller of libs/lockout/README.md; no password is ever right here. */
@Controller()
class LoginController {
  @Post('login')
  @HttpCode(200)
  @LockoutProtected()
  login(@Body() _body: { email: string; password: string }) {
    throw new InvalidCredentialsError();
  }
}

const keyPrefix = uniqueKeyPrefix('lockout-options');

/** The app of libs/lockout/README.md, its limits from the adopter's own configuration. */
async function startApp(limits: Partial<LockoutModuleOptions>): Promise<INestApplication> {
  @Module({
    imports: [
      RedisModule.forRoot({ url: TEST_REDIS_URL, keyPrefix, commandTimeoutMs: 1_000 }),
      SecurityEventsModule.forRoot({ service: 'lockout-options', pseudonymKey: 'test-key' }),
      LockoutModule.forRootAsync({ useFactory: () => ({ keySecret: 'test-lockout-secret', ...limits }) }),
    ],
    controllers: [LoginController],
    providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

/** Why the app refused to start, or undefined (after closing it) when it started. */
async function startupError(limits: Partial<LockoutModuleOptions>): Promise<string | undefined> {
  try {
    await (await startApp(limits)).close();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * A limit read as `Number(process.env.X)` with X unset is NaN; a window of 0 or less expires its
 * count at once. Either used to start an app whose logins never locked, with nothing said.
 */
describe('LockoutModule options an adopter gets wrong', () => {
  afterAll(async () => {
    await deleteKeysWithPrefix(keyPrefix);
  });

  it.each<[string, keyof LockoutModuleOptions, unknown]>([
    ['NaN', 'pairMaxFailures', NaN],
    ['Infinity', 'pairMaxFailures', Infinity],
    ['a fraction', 'pairMaxFailures', 2.5],
    ['a string', 'pairMaxFailures', '5'],
    ['NaN', 'ipMaxFailures', NaN],
    ['0', 'emailMaxFailures', 0],
    ['0', 'pairWindowMs', 0],
    ['negative', 'ipWindowMs', -1],
    ['0', 'baseLockMs', 0],
    ['NaN', 'notificationIntervalMs', NaN],
  ])('refuses to start with %s as %s, naming the option', async (_what, option, value) => {
    expect(await startupError({ [option]: value })).toMatch(`LockoutModule: ${option} must be a positive integer`);
  });

  it.each([
    { option: 'onRedisError', value: 'fail-opne', expected: "onRedisError must be 'fail-closed' or 'fail-open'" },
    { option: 'store', value: 'Memory', expected: "store must be 'redis' or 'memory'" },
  ])('refuses to start with an unknown $option', async ({ option, value, expected }) => {
    expect(await startupError({ [option]: value })).toMatch(`LockoutModule: ${expected}`);
  });

  it('still locks with limits given as whole numbers', async () => {
    const app = await startApp({ pairMaxFailures: 3, pairWindowMs: 60_000, baseLockMs: 60_000 });
    try {
      const login = () => request(app.getHttpServer()).post('/login').send({ email: 'victim@example.com', password: 'guess' });
      for (let i = 0; i < 3; i++) expect((await login()).status).toBe(401);
      expect((await login()).status).toBe(429);
    } finally {
      await app.close();
    }
  });
});
