import { Controller, ForbiddenException, Injectable, Logger, Post, UseGuards, type CanActivate } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';

import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import { LockoutProtected } from './lockout-protected.decorator';
import { LockoutGuard } from './lockout.guard';

jest.setTimeout(20_000);

const WRONG = 'wrong password';

/** Waits (bounded) for something that happens after the response was sent. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
const OPTIONS = { pairMaxFailures: 5, pairWindowMs: 60_000, baseLockMs: 60_000, emailMaxFailures: 50, ipMaxFailures: 50 };

/** The guard-only wiring the library must refuse: nothing settles the attempts it reserves. */
@Controller()
class GuardOnlyController {
  @Post('guard-only')
  @UseGuards(LockoutGuard)
  login() {
    return { ok: false };
  }
}

/** Refuses every request after LockoutGuard reserved it, so the settlement interceptor never runs. */
@Injectable()
class RefuseAfterReservation implements CanActivate {
  canActivate(): boolean {
    throw new ForbiddenException();
  }
}

@Controller()
class RefusingController {
  // Decorators apply bottom-up: LockoutGuard runs first, then the refusing guard.
  @Post('refused')
  @UseGuards(RefuseAfterReservation)
  @LockoutProtected()
  login() {
    return { ok: true };
  }
}

describe('a lockout that cannot be wired wrong (real Redis)', () => {
  describe('on routes wired with @LockoutProtected()', () => {
    let t: LoginTestApp;

    beforeAll(async () => {
      t = await startLoginTestApp({ ...OPTIONS, controllers: [RefusingController], providers: [RefuseAfterReservation] }, [
        'reporter@example.com',
        'settler@example.com',
        'early@example.com',
        'refused@example.com',
      ]);
    });
    afterAll(() => t.close());

    it('locks a handler that reports through its LoginAttempt and answers with its own exception', async () => {
      const ip = '10.20.0.1';
      for (let i = 0; i < 5; i++) expect((await t.login('reporter@example.com', WRONG, ip, '/login-reporting')).status).toBe(401);
      const locked = await t.login('reporter@example.com', TEST_PASSWORD, ip, '/login-reporting');
      expect(locked.status).toBe(429);
      expect((await t.lockout.getState('reporter@example.com', ip)).locked).toBe(true);
    });

    it('settles once: a success reported through LoginAttempt resets the count, and the interceptor adds nothing', async () => {
      const ip = '10.20.0.2';
      for (let i = 0; i < 4; i++) expect((await t.login('settler@example.com', WRONG, ip, '/login-reporting')).status).toBe(401);
      expect((await t.login('settler@example.com', TEST_PASSWORD, ip, '/login-reporting')).status).toBe(200);
      // Five more failures are needed for a lock: the success cleared the four before it.
      for (let i = 0; i < 4; i++) expect((await t.login('settler@example.com', WRONG, ip, '/login-reporting')).status).toBe(401);
      expect((await t.login('settler@example.com', TEST_PASSWORD, ip, '/login-reporting')).status).toBe(200);
    });

    it('gives back attempts whose handler failed before judging the password, so they never lock', async () => {
      const ip = '10.20.0.3';
      for (let i = 0; i < 8; i++) {
        const res = await request(t.app.getHttpServer())
          .post('/login')
          .set('X-Forwarded-For', ip)
          .send({ email: 'early@example.com', password: 42 });
        expect(res.status).toBe(400);
      }
      expect((await t.lockout.getState('early@example.com', ip)).locked).toBe(false);
      expect((await t.login('early@example.com', TEST_PASSWORD, ip)).status).toBe(200);
    });

    it('releases an attempt that is never settled and warns, naming the handler', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      const release = jest.spyOn(t.lockout, 'release'); // calls through
      const ip = '10.20.0.4';
      try {
        for (let i = 1; i <= 8; i++) {
          const res = await request(t.app.getHttpServer())
            .post('/refused')
            .set('X-Forwarded-For', ip)
            .send({ email: 'refused@example.com', password: WRONG });
          // Past the fifth, an attempt that was not given back would be refused with 429.
          expect(res.status).toBe(403);
          // The guard gives the attempt back once the response is sent ('finish').
          await until(() => release.mock.calls.length === i);
          await release.mock.results[i - 1].value;
        }
        expect((await t.login('refused@example.com', TEST_PASSWORD, ip)).status).toBe(200);
        const warnings = warn.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('never settled'));
        expect(warnings).toHaveLength(8);
        expect(warnings[0]).toContain('RefusingController.login');
      } finally {
        warn.mockRestore();
        release.mockRestore();
      }
    });
  });

  it('fails at start-up, naming the handler, when LockoutGuard is used without settlement', async () => {
    await expect(startLoginTestApp({ ...OPTIONS, controllers: [GuardOnlyController] }, [])).rejects.toThrow(
      /LockoutGuard reserves login attempts that nothing settles on GuardOnlyController\.login: use @LockoutProtected\(\)/,
    );
  });

  it('fails at start-up when LockoutGuard is registered as a global guard', async () => {
    await expect(startLoginTestApp({ ...OPTIONS, providers: [{ provide: APP_GUARD, useClass: LockoutGuard }] }, [])).rejects.toThrow(
      /nothing settles on APP_GUARD/,
    );
  });
});
