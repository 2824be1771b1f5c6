import { randomUUID } from 'node:crypto';

import { Logger } from '@nestjs/common';
import request from 'supertest';

import { ACCOUNT_LOCKED_MESSAGE, LockoutService } from '@nest-hardening/lockout';
import { SecurityEvents, type SecurityEvent } from '@nest-hardening/security-events';

import {
  LOCKOUT_TEST_ENV,
  login,
  registerAndLogin,
  startTestSystem,
  TEST_PASSWORD,
  uniqueEmail,
  type TestSystem,
} from '../../../test/support';
import { PasswordHasher } from '../src/accounts/password-hasher';

/**
 * Account lockout through the real system (gateway → auth-service → Redis/Postgres): the pair lock,
 * enumeration resistance, concurrency, the account-wide ceiling, IP spraying, admin routes and the
 * security events. Locks here last 10 minutes, so nothing expires during the suite; expiry and
 * backoff are in lockout-backoff.e2e-spec.ts.
 */
describe('account lockout through the gateway', () => {
  let system: TestSystem;
  let adminToken: string;
  let adminId: string;
  let emitSpy: jest.SpyInstance<void, [SecurityEvent]>;
  // What SecurityEvents actually hands to its sinks is read from these (the log line; Sentry gets the same fields).
  const logSpies: jest.SpyInstance[] = [];
  // Every raw identifier this suite sends, to prove none of them leaves in an event.
  const rawEmails = new Set<string>();
  const rawIps = new Set<string>();

  const WRONG = 'not the right password';
  const ADMIN = { email: 'lockout-admin@example.com', password: 'admin password for lockout' };

  beforeAll(async () => {
    // Spies call through: the real loggers still decide what is printed.
    logSpies.push(jest.spyOn(Logger.prototype, 'log'), jest.spyOn(Logger.prototype, 'warn'));
    system = await startTestSystem({
      label: 'lockout',
      // Lift the gateway's own login budget, so every 429 observed here is the lockout's.
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '10000', RATE_LIMIT_GENERAL_LIMIT: '100000' },
      authEnv: {
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        ...LOCKOUT_TEST_ENV,
      },
    });
    emitSpy = jest.spyOn(system.auth.get(SecurityEvents), 'emit'); // calls through
    const admin = await login(system.gatewayUrl, ADMIN.email, ADMIN.password);
    adminToken = admin.accessToken;
    adminId = (await api().get('/api/me').set(bearer(adminToken))).body.id as string;
  });

  afterAll(async () => {
    logSpies.forEach((spy) => spy.mockRestore());
    await system?.close();
  });

  const loggedEvents = (): Record<string, unknown>[] =>
    logSpies
      .flatMap((spy) => spy.mock.calls.map(([message]: unknown[], i) => ({ message, order: spy.mock.invocationCallOrder[i] })))
      .sort((a, b) => a.order - b.order)
      .map(({ message }) => message)
      .filter((m): m is Record<string, unknown> => m !== null && typeof m === 'object' && 'securityEvent' in m);
  const api = () => request(system.gatewayUrl);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  let ipCounter = 0;
  /** A fresh client address per use: every test owns its pair, account and address budgets. */
  const nextIp = () => {
    ipCounter += 1;
    const ip = `10.77.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
    rawIps.add(ip);
    return ip;
  };
  const freshEmail = (label: string) => {
    const email = uniqueEmail(label);
    rawEmails.add(email);
    return email;
  };

  /** One login through the gateway from `ip` (the gateway trusts the loopback proxy that the test is). */
  const attempt = (email: string, password: string, ip: string) =>
    api().post('/api/auth/login').set({ 'x-forwarded-for': ip, 'user-agent': 'lockout-e2e/1.0' }).send({ email, password });

  async function register(label: string): Promise<{ id: string; email: string; password: string }> {
    const email = freshEmail(label);
    const res = await api().post('/api/auth/register').send({ email, password: TEST_PASSWORD });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, email, password: TEST_PASSWORD };
  }

  /** Five wrong passwords from one address: each is an ordinary 401. */
  async function failFive(email: string, ip: string): Promise<request.Response[]> {
    const answers: request.Response[] = [];
    for (let i = 0; i < 5; i++) answers.push(await attempt(email, WRONG, ip));
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    return answers;
  }

  /** A lockout refusal: 429, a positive Retry-After, and the one generic body. */
  function expectLocked(res: request.Response): void {
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(res.body).toEqual({ statusCode: 429, message: ACCOUNT_LOCKED_MESSAGE, retryAfter });
  }

  const getLockout = (id: string, token = adminToken) => api().get(`/api/accounts/${id}/lockout`).set(bearer(token));
  const unlock = (id: string, token = adminToken) => api().patch(`/api/accounts/${id}/unlock`).set(bearer(token));

  describe('the (email, address) pair lock', () => {
    it('locks after 5 wrong passwords: the right one then gets 429 with Retry-After and the same body as a wrong one', async () => {
      const user = await register('pair');
      const ip = nextIp();
      await failFive(user.email, ip);

      const right = await attempt(user.email, user.password, ip);
      const wrong = await attempt(user.email, WRONG, ip);
      expectLocked(right);
      expectLocked(wrong);
      // Nothing tells the caller that the password was right this time.
      expect({ ...right.body, retryAfter: 0 }).toEqual({ ...wrong.body, retryAfter: 0 });
      expect(right.headers['content-type']).toBe(wrong.headers['content-type']);
      // Retry-After is the real remaining lock (10 minutes here), not a token value.
      expect(Number(right.headers['retry-after'])).toBeGreaterThan(60);
      expect(Number(right.headers['retry-after'])).toBeLessThanOrEqual(600);
    });

    it('a right password resets the pair before its answer: the next wrong ones count from zero, nothing stays pending', async () => {
      const user = await register('reset');
      const ip = nextIp();
      for (let i = 0; i < 4; i++) expect((await attempt(user.email, WRONG, ip)).status).toBe(401);
      expect((await attempt(user.email, user.password, ip)).status).toBe(200);

      // Read at once after the answer: the success was settled with the session, before the response.
      const lockout = system.auth.get(LockoutService);
      const state = await lockout.getState(user.email, ip);
      expect(state).toMatchObject({ locked: false, emailFailures: 0, emailPending: 0, ip: { failures: 4, pending: 0 } });
      expect(state.addresses).toEqual([
        expect.objectContaining({ address: lockout.addressId(ip), failures: 0, pending: 0, lastSuccessAt: expect.any(Date) }),
      ]);

      // Four more wrong passwords are not a lock (they would be without the reset); the fifth is.
      for (let i = 0; i < 4; i++) expect((await attempt(user.email, WRONG, ip)).status).toBe(401);
      expect((await attempt(user.email, WRONG, ip)).status).toBe(401);
      expectLocked(await attempt(user.email, user.password, ip));
    });

    it('does not extend the lock when more attempts arrive during it', async () => {
      const user = await register('no-extend');
      const ip = nextIp();
      await failFive(user.email, ip);
      const before = (await getLockout(user.id)).body;
      for (let i = 0; i < 10; i++) expectLocked(await attempt(user.email, i % 2 ? WRONG : user.password, ip));
      const after = (await getLockout(user.id)).body;
      expect(after.lockedUntil).toBe(before.lockedUntil);
      expect(after).toMatchObject({ backoffLevel: 1, emailFailures: 5, emailPending: 0 });
    });

    it('counts every spelling of the email against one pair (case does not reset the count)', async () => {
      const user = await register('case');
      const ip = nextIp();
      const [local, domain] = user.email.split('@');
      const spellings = [
        user.email.toUpperCase(),
        `${local}@${domain.toUpperCase()}`,
        user.email,
        `${local.toUpperCase()}@${domain}`,
        user.email.toUpperCase(),
      ];
      for (const email of spellings) expect((await attempt(email, WRONG, ip)).status).toBe(401);
      expectLocked(await attempt(user.email, user.password, ip));
    });

    it('does not lock the same account from another address', async () => {
      const user = await register('other-addr');
      const lockedIp = nextIp();
      await failFive(user.email, lockedIp);
      expectLocked(await attempt(user.email, user.password, lockedIp));

      const otherIp = nextIp();
      expect((await attempt(user.email, WRONG, otherIp)).status).toBe(401);
      const res = await attempt(user.email, user.password, otherIp);
      expect(res.status).toBe(200);
      expect(res.body.accessToken).toEqual(expect.any(String));
      // ...while the locked pair stays locked.
      expectLocked(await attempt(user.email, user.password, lockedIp));
    });

    it('answers an unknown email exactly like a known one across the whole lock sequence', async () => {
      const known = await register('known');
      const unknownEmail = freshEmail('unknown');
      const sequence = async (email: string, password: string) => {
        const ip = nextIp();
        const answers: request.Response[] = [];
        for (let i = 0; i < 5; i++) answers.push(await attempt(email, WRONG, ip));
        answers.push(await attempt(email, password, ip));
        answers.push(await attempt(email, WRONG, ip));
        return answers;
      };
      const knownAnswers = await sequence(known.email, known.password);
      const unknownAnswers = await sequence(unknownEmail, TEST_PASSWORD);

      const shape = (r: request.Response) => ({
        status: r.status,
        body: r.status === 429 ? { ...r.body, retryAfter: typeof r.body.retryAfter } : r.body,
        retryAfter: r.headers['retry-after'] === undefined ? 'none' : 'set',
      });
      expect(knownAnswers.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 429, 429]);
      expect(unknownAnswers.map(shape)).toEqual(knownAnswers.map(shape));
      // The Retry-After values agree too (same lock length; a second apart at most from rounding).
      expect(
        Math.abs(Number(unknownAnswers[5].headers['retry-after']) - Number(knownAnswers[5].headers['retry-after'])),
      ).toBeLessThanOrEqual(1);
    });

    it('lets at most 5 of 50 concurrent wrong logins for one pair reach the password check; the rest get 429 at once', async () => {
      const user = await register('burst');
      const ip = nextIp();
      const hasher = system.auth.get(PasswordHasher);
      const before = hasher.verifications;

      const answers = await Promise.all(Array.from({ length: 50 }, () => attempt(user.email, WRONG, ip)));
      const verified = hasher.verifications - before;
      const statuses = answers.map((r) => r.status);
      const refused = answers.filter((r) => r.status === 429);

      expect(verified).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 401)).toHaveLength(verified);
      expect(refused.length).toBeGreaterThanOrEqual(45);
      expect(refused.length + verified).toBe(50);
      refused.forEach(expectLocked);
      // And the pair ends up locked, also for the right password.
      expectLocked(await attempt(user.email, user.password, ip));
      expect(hasher.verifications - before).toBe(verified);
    });
  });

  describe('requests that never reach the password check', () => {
    it.each([
      ['an unknown extra field', { password: WRONG, remember: true }],
      ['a non-string password', { password: 12345 }],
      ['no password', {}],
    ])('%s → 400 each time, and they neither lock nor use up the pair, account or address budgets', async (_case, rest) => {
      const user = await register('invalid');
      const ip = nextIp();
      for (let i = 0; i < 12; i++) {
        const res = await api()
          .post('/api/auth/login')
          .set({ 'x-forwarded-for': ip })
          .send({ email: user.email, ...rest });
        expect(res.status).toBe(400);
      }
      expect((await getLockout(user.id)).body).toMatchObject({ locked: false, emailPending: 0, emailFailures: 0 });
      const res = await attempt(user.email, user.password, ip);
      expect(res.status).toBe(200);
    });
  });

  describe('the account-wide ceiling (8 failures across addresses)', () => {
    it('locks every address except one that logged in successfully before', async () => {
      const knownIp = nextIp();
      const user = await registerAndLogin(system.gatewayUrl, { email: freshEmail('ceiling'), forwardedFor: knownIp });

      // One wrong password from each of 8 addresses: no pair comes near its limit of 5.
      for (let i = 0; i < 8; i++) expect((await attempt(user.email, WRONG, nextIp())).status).toBe(401);

      // A ninth address, even with the right password, is refused...
      const stranger = nextIp();
      expectLocked(await attempt(user.email, user.password, stranger));
      const state = await getLockout(user.id);
      expect(state.status).toBe(200);
      expect(state.body).toMatchObject({ locked: true, emailLocked: true, emailFailures: 8, emailLockedUntil: expect.any(String) });

      // ...but the address the owner used before still logs in, and that success ends the lock.
      const known = await attempt(user.email, user.password, knownIp);
      expect(known.status).toBe(200);
      expect((await getLockout(user.id)).body).toMatchObject({ emailLocked: false, emailFailures: 0 });
      expect((await attempt(user.email, user.password, stranger)).status).toBe(200);
    });
  });

  describe('password spraying from one address (10 failures across emails)', () => {
    it('blocks the address for every email, including a real account with its right password', async () => {
      const sprayer = nextIp();
      for (let i = 0; i < 10; i++) expect((await attempt(freshEmail('spray'), WRONG, sprayer)).status).toBe(401);

      expectLocked(await attempt(freshEmail('spray'), WRONG, sprayer));
      const victim = await register('spray-victim');
      expectLocked(await attempt(victim.email, victim.password, sprayer));
      // Other addresses are not affected.
      expect((await attempt(victim.email, victim.password, nextIp())).status).toBe(200);

      const blocked = emitSpy.mock.calls.map(([event]) => event).filter((e) => e.type === 'ip_spraying_blocked');
      expect(blocked).toHaveLength(1);
    });
  });

  describe('admin routes', () => {
    it('GET lockout shows the state, PATCH unlock clears every lock and a login works at once', async () => {
      const user = await register('unlock');
      const firstIp = nextIp();
      const secondIp = nextIp();
      await failFive(user.email, firstIp); // pair lock on the first address
      for (let i = 0; i < 3; i++) expect((await attempt(user.email, WRONG, secondIp)).status).toBe(401); // 8: account lock
      expectLocked(await attempt(user.email, user.password, firstIp));
      expectLocked(await attempt(user.email, user.password, secondIp));

      const lockout = system.auth.get(LockoutService);
      const before = await getLockout(user.id);
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({ locked: true, emailLocked: true, backoffLevel: 1 });
      expect(before.body.lockedUntil).toEqual(expect.any(String));
      const byAddress = Object.fromEntries((before.body.addresses as { address: string }[]).map((a) => [a.address, a]));
      expect(Object.keys(byAddress).sort()).toEqual([lockout.addressId(firstIp), lockout.addressId(secondIp)].sort());
      expect(byAddress[lockout.addressId(firstIp)]).toMatchObject({ locked: true, backoffLevel: 1 });
      expect(byAddress[lockout.addressId(secondIp)]).toMatchObject({ locked: false, failures: 3 });
      // Addresses appear only as keyed hashes.
      expect(JSON.stringify(before.body)).not.toContain(firstIp);

      const cleared = await unlock(user.id);
      expect(cleared.status).toBe(200);
      expect(cleared.body).toEqual({ cleared: before.body });

      const after = await getLockout(user.id);
      expect(after.body).toMatchObject({
        locked: false,
        lockedUntil: null,
        emailLocked: false,
        emailFailures: 0,
        backoffLevel: 0,
        addresses: [],
      });
      expect((await attempt(user.email, user.password, firstIp)).status).toBe(200);
      expect((await attempt(user.email, user.password, secondIp)).status).toBe(200);
      // Idempotent: a second unlock clears nothing and still answers 200.
      const again = await unlock(user.id);
      expect(again.status).toBe(200);
      expect(again.body.cleared).toMatchObject({ locked: false });
    });

    it('refuses a non-admin with 403, an unknown account with 404 and a malformed id with 400', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { email: freshEmail('plain') });
      expect((await unlock(user.id, user.accessToken)).status).toBe(403);
      expect((await getLockout(user.id, user.accessToken)).status).toBe(403);
      expect((await unlock(randomUUID())).status).toBe(404);
      expect((await getLockout(randomUUID())).status).toBe(404);
      expect((await unlock('not-a-uuid')).status).toBe(400);
      expect((await getLockout('not-a-uuid')).status).toBe(400);
      expect((await api().patch(`/api/accounts/${user.id}/unlock`)).status).toBe(401);
    });
  });

  describe('security events', () => {
    it('reports account_locked and account_unlocked (with the admin id), pseudonymised', async () => {
      const user = await register('events');
      const ip = nextIp();
      const events = system.auth.get(SecurityEvents);
      const from = emitSpy.mock.calls.length;
      await failFive(user.email, ip);
      expect((await unlock(user.id)).status).toBe(200);

      // Audit-only events (each failed login) go to the audit trail, not to the log or Sentry.
      const emitted = emitSpy.mock.calls
        .slice(from)
        .map(([event]) => event)
        .filter((e) => !e.auditOnly);
      // The unlock is reported by the lockout, and as an admin action by the audit interceptor.
      expect(emitted.map((e) => e.type)).toEqual(['account_locked', 'account_unlocked', 'admin_action']);
      expect(emitted[0]).toMatchObject({ rule: 'pair', details: { backoffLevel: 1, lockSeconds: 600 } });
      expect(emitted[1]).toMatchObject({ details: { adminId, accountId: user.id, previousLocked: true } });

      // What leaves the process carries pseudonyms that correlate, never the email or the address.
      const logged = loggedEvents().filter((e) => e.emailPseudonym === events.pseudonymize(user.email));
      expect(logged.map((e) => e.securityEvent)).toEqual(['account_locked', 'account_unlocked']);
      expect(logged[0].ipPseudonym).toBe(events.pseudonymize(ip));
      expect(logged[1].adminId).toBe(adminId);
    });

    it('never puts a raw email or address into any event payload of this suite', () => {
      // Runs last: covers the pair, ceiling, spraying and unlock events emitted above.
      const types = new Set(loggedEvents().map((e) => e.securityEvent));
      expect([...types]).toEqual(
        expect.arrayContaining(['account_locked', 'account_lock_email_ceiling', 'ip_spraying_blocked', 'account_unlocked']),
      );
      const text = JSON.stringify(loggedEvents());
      for (const email of rawEmails) expect(text).not.toContain(email);
      for (const ip of rawIps) expect(text).not.toContain(ip);
      expect(text).not.toContain('@example.com');
    });
  });
});
