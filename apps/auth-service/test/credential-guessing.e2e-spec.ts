import request from 'supertest';

import { SecurityEvents, type SecurityEvent } from '@nest-hardening/security-events';

import {
  bearer,
  callFrom,
  eventually,
  freshLoopbackIp,
  registerAndLogin,
  sleep,
  startTestSystem,
  uniqueEmail,
  type TestSystem,
} from '../../../test/support';
import { AccountAdministrationService } from '../src/accounts/account-administration.service';
import { AccountsService } from '../src/accounts/accounts.service';
import { PasswordHasher } from '../src/accounts/password-hasher';

/**
 * Penetration-test findings 2, 7 and 10: the password-change form is not a guessing oracle, the
 * account-wide ceiling bounds consecutive failures however slowly they come, and every email that
 * can register is counted by the lockout.
 */
describe('credential guessing outside the login form', () => {
  let system: TestSystem;
  let events: SecurityEvent[] = [];
  const WRONG = 'definitely not the password';

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'guessing',
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '10000', RATE_LIMIT_GENERAL_LIMIT: '100000' },
      authEnv: {
        LOCKOUT_PAIR_MAX_FAILURES: '5',
        LOCKOUT_EMAIL_MAX_FAILURES: '8',
        // Time-compressed: a reservation is freed after 1 s, a window the old ceiling forgot failures in (long
        // enough that a verification on a loaded machine confirms its failure before the reservation expires).
        LOCKOUT_EMAIL_WINDOW_MS: '1000',
        LOCKOUT_IP_MAX_FAILURES: '1000',
        PASSWORD_CHANGE_MAX_FAILURES: '5',
        // auth-service's own login budget (for requests that do not come through the gateway).
        RATE_LIMIT_AUTH_LIMIT: '10000',
      },
    });
    const spy = jest.spyOn(system.auth.get(SecurityEvents), 'emit');
    spy.mockImplementation(function (this: SecurityEvents, event: SecurityEvent) {
      events.push(event);
    });
  });

  afterAll(() => system?.close());
  beforeEach(() => {
    events = [];
  });

  const hasher = () => system.auth.get(PasswordHasher);
  const changePassword = (base: string, prefix: string, token: string, currentPassword: string, newPassword: string, ip: string) =>
    request(base).post(`${prefix}/auth/password`).set(bearer(token)).set('x-forwarded-for', ip).send({ currentPassword, newPassword });
  /** Holds the next password verification once it has started, until `release()`; `entered` resolves when it starts. */
  const holdNextVerification = () => {
    const verify = hasher().verifyOrDummy.bind(hasher());
    let verifying!: () => void;
    const entered = new Promise<void>((resolve) => (verifying = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    jest.spyOn(hasher(), 'verifyOrDummy').mockImplementationOnce(async (storedHash, password) => {
      verifying();
      await released;
      return verify(storedHash, password);
    });
    return { entered, release };
  };
  const loginAt = (email: string, password: string, ip: string) =>
    request(system.gatewayUrl).post('/api/auth/login').set('x-forwarded-for', ip).send({ email, password });

  describe('finding 2: wrong current passwords in a password change', () => {
    /** A password change and a login from one client address, through the gateway or straight at auth-service. */
    const clients = {
      'through the gateway': () => {
        const ip = '10.93.0.1';
        return {
          ip,
          change: async (token: string, current: string) =>
            (await changePassword(system.gatewayUrl, '/api', token, current, 'a fresh new passphrase 9', ip)).status,
          login: async (email: string, password: string) => (await loginAt(email, password, ip)).status,
        };
      },
      // Straight at the service its socket address counts (it believes X-Forwarded-For only from the gateway).
      'straight at auth-service': () => {
        const ip = freshLoopbackIp();
        return {
          ip,
          change: async (token: string, current: string) =>
            (
              await callFrom(system.authUrl, 'POST', '/auth/password', {
                from: ip,
                headers: bearer(token),
                body: { currentPassword: current, newPassword: 'a fresh new passphrase 9' },
              })
            ).status,
          login: async (email: string, password: string) =>
            (await callFrom(system.authUrl, 'POST', '/auth/login', { from: ip, body: { email, password } })).status,
        };
      },
    };

    it.each(Object.keys(clients) as (keyof typeof clients)[])(
      '%s: 50 concurrent guesses verify at most 5 passwords, end the session and are reported',
      async (via) => {
        const client = clients[via]();
        const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('pwguess') });
        const before = hasher().verifications;
        const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => client.change(user.accessToken, `${WRONG} ${i}`)));
        expect(hasher().verifications - before).toBeLessThanOrEqual(5);
        expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
        expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(1);

        // The session that guessed is over everywhere, and the guesses count for the account: the
        // address is locked for logins too, even with the right password.
        expect(
          await eventually(async () => (await request(system.gatewayUrl).get('/api/me').set(bearer(user.accessToken))).status === 401),
        ).toBe(true);
        expect(await client.login(user.email, user.password)).toBe(429);
        expect(events).toContainEqual(expect.objectContaining({ type: 'password_change_guessing', severity: 'critical' }));
        expect(events).toContainEqual(expect.objectContaining({ type: 'account_locked', rule: 'pair' }));
      },
    );

    it('concurrent guesses from many addresses: the session ends and the guessing is reported', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('pwspray'), forwardedFor: '10.93.3.1' });
      // Each guess from its own address, so only the per-session allowance and the account ceiling apply.
      const statuses = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          changePassword(system.gatewayUrl, '/api', user.accessToken, `${WRONG} ${i}`, 'a fresh new passphrase 9', `10.93.3.${10 + i}`),
        ),
      );
      expect(statuses.map((r) => r.status).every((s) => s === 401 || s === 429)).toBe(true);
      expect(
        await eventually(async () => (await request(system.gatewayUrl).get('/api/me').set(bearer(user.accessToken))).status === 401),
      ).toBe(true);
      expect(events.filter((e) => e.type === 'password_change_guessing')).toEqual([
        expect.objectContaining({ severity: 'critical', rule: 'session_ended', details: expect.objectContaining({ userId: user.id }) }),
      ]);
    });

    it('sequential wrong guesses from one session: the fifth ends it', async () => {
      const ip = '10.93.1.1';
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('pwseq'), forwardedFor: ip });
      // Each guess from its own address, so only the per-session allowance applies.
      for (let i = 0; i < 4; i++) {
        expect(
          (await changePassword(system.gatewayUrl, '/api', user.accessToken, WRONG, 'a fresh new passphrase 9', `10.93.1.${10 + i}`))
            .status,
        ).toBe(401);
      }
      expect((await request(system.gatewayUrl).get('/api/me').set(bearer(user.accessToken))).status).toBe(200);
      expect(
        (await changePassword(system.gatewayUrl, '/api', user.accessToken, WRONG, 'a fresh new passphrase 9', '10.93.1.20')).status,
      ).toBe(401);
      expect(
        await eventually(async () => (await request(system.gatewayUrl).get('/api/me').set(bearer(user.accessToken))).status === 401),
      ).toBe(true);
    });

    it('a right guess resets the count, and a new password equal to the current one is refused with 400', async () => {
      const ip = '10.93.2.1';
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('pwsame'), forwardedFor: ip });
      const same = await changePassword(system.gatewayUrl, '/api', user.accessToken, user.password, user.password, ip);
      expect(same.status).toBe(400);
      expect(same.body.message).toMatch(/different from the current one/);
      for (let i = 0; i < 3; i++)
        expect((await changePassword(system.gatewayUrl, '/api', user.accessToken, WRONG, 'next passphrase one 1', ip)).status).toBe(401);
      expect((await changePassword(system.gatewayUrl, '/api', user.accessToken, user.password, 'next passphrase one 1', ip)).status).toBe(
        204,
      );
      for (let i = 0; i < 4; i++) {
        expect(
          (await changePassword(system.gatewayUrl, '/api', user.accessToken, WRONG, 'next passphrase two 2', `10.93.2.${10 + i}`)).status,
        ).toBe(401);
      }
      expect((await request(system.gatewayUrl).get('/api/me').set(bearer(user.accessToken))).status).toBe(200);
    });
  });

  describe('finding 7: the account ceiling counts consecutive failures, not failures per window', () => {
    it('locks at the ceiling even when failures come slower than any window, until a known address logs in', async () => {
      const home = '10.94.0.1';
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('slow'), forwardedFor: home });
      // 8 failures from 8 addresses, each after the 1 s window of the one before.
      for (let i = 0; i < 8; i++) {
        expect((await loginAt(user.email, WRONG, `10.94.1.${i + 1}`)).status).toBe(401);
        await sleep(1100);
      }
      // The right password from any address the account has not logged in from: refused.
      const before = hasher().verifications;
      for (let i = 0; i < 5; i++) expect((await loginAt(user.email, user.password, `10.94.2.${i + 1}`)).status).toBe(429);
      expect(hasher().verifications).toBe(before);
      expect(events).toContainEqual(expect.objectContaining({ type: 'account_lock_email_ceiling' }));

      // The owner's known address still gets in, and that ends the lock.
      expect((await loginAt(user.email, user.password, home)).status).toBe(200);
      expect((await loginAt(user.email, user.password, '10.94.2.1')).status).toBe(200);
    });

    it('a password change ends the account lock', async () => {
      const home = '10.94.3.1';
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('slowpw'), forwardedFor: home });
      for (let i = 0; i < 8; i++) expect((await loginAt(user.email, WRONG, `10.94.4.${i + 1}`)).status).toBe(401);
      expect((await loginAt(user.email, user.password, '10.94.5.1')).status).toBe(429);
      expect(
        (await changePassword(system.gatewayUrl, '/api', user.accessToken, user.password, 'the owner took it back 3', home)).status,
      ).toBe(204);
      expect((await loginAt(user.email, 'the owner took it back 3', '10.94.5.1')).status).toBe(200);
    });

    it('a password change forgets the addresses the old password signed in from: only the changing one stays exempt', async () => {
      const home = '10.94.6.1';
      const intruder = '10.94.6.2';
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('pwforget'), forwardedFor: home });
      // Someone who learnt the password signs in from their own address; the owner takes the account back.
      expect((await loginAt(user.email, user.password, intruder)).status).toBe(200);
      const changed = 'the owner took it back 4';
      expect((await changePassword(system.gatewayUrl, '/api', user.accessToken, user.password, changed, home)).status).toBe(204);

      for (let i = 0; i < 8; i++) expect((await loginAt(user.email, WRONG, `10.94.7.${i + 1}`)).status).toBe(401);
      // The intruder's address proved only the old password: refused like any other, no password checked.
      const before = hasher().verifications;
      expect((await loginAt(user.email, WRONG, intruder)).status).toBe(429);
      expect((await loginAt(user.email, changed, intruder)).status).toBe(429);
      expect(hasher().verifications).toBe(before);
      // The address the password was changed from proved the new one.
      expect((await loginAt(user.email, changed, home)).status).toBe(200);
    });

    it('a login with the old password still being checked when the password changes does not make its address known again', async () => {
      const home = '10.94.8.1';
      const intruder = '10.94.8.2';
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('pwinflight'), forwardedFor: home });
      expect((await loginAt(user.email, user.password, intruder)).status).toBe(200);
      // The intruder's next login has read the account and is verifying the old password when the owner changes it.
      const { entered, release } = holdNextVerification();
      const inFlight = loginAt(user.email, user.password, intruder).then((res) => res.status);
      await entered;
      const changed = 'the owner took it back 5';
      expect((await changePassword(system.gatewayUrl, '/api', user.accessToken, user.password, changed, home)).status).toBe(204);
      release();
      expect(await inFlight).toBe(401);

      for (let i = 0; i < 8; i++) expect((await loginAt(user.email, WRONG, `10.94.9.${i + 1}`)).status).toBe(401);
      // Its right password was the old one: the account-wide lock refuses it like any other address.
      expect((await loginAt(user.email, WRONG, intruder)).status).toBe(429);
      expect((await loginAt(user.email, changed, home)).status).toBe(200);
    });

    it('a login refused because an admin ended every session meanwhile keeps its address known: its password is still the current one', async () => {
      const home = '10.94.10.1';
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('pwkept'), forwardedFor: home });
      // The owner's next login from home is verifying the password when an admin ends every session of the account.
      const { entered, release } = holdNextVerification();
      const inFlight = loginAt(user.email, user.password, home).then((res) => res.status);
      await entered;
      const admin = { id: 'an admin', sessionId: 'its session', role: 'admin', jti: 'its token', exp: 0 } as const;
      await system.auth.get(AccountAdministrationService).endAllSessions(admin, user.id);
      release();
      expect(await inFlight).toBe(401);

      for (let i = 0; i < 8; i++) expect((await loginAt(user.email, WRONG, `10.94.11.${i + 1}`)).status).toBe(401);
      // Home proved the password the account still has: the account-wide lock spares it.
      expect((await loginAt(user.email, user.password, home)).status).toBe(200);
    });
  });

  describe('finding 10: every email registration accepts is counted', () => {
    it('locks an account registered with a quoted local part', async () => {
      const email = `"quoted user ${Date.now()}"@example.com`;
      const registered = await request(system.gatewayUrl).post('/api/auth/register').send({ email, password: 'a quoted passphrase 12' });
      expect(registered.status).toBe(201);
      const ip = '10.95.0.1';
      for (let i = 0; i < 5; i++) expect((await loginAt(email, WRONG, ip)).status).toBe(401);
      expect((await loginAt(email, 'a quoted passphrase 12', ip)).status).toBe(429);
      expect((await loginAt(email, 'a quoted passphrase 12', '10.95.0.2')).status).toBe(200);
    });

    // Registration now refuses spellings that mail delivers to another address; accounts registered
    // under one before that (an ideographic full stop typed by an input method, needless quotes)
    // belong to someone, and login must still find them, counted as before.
    it.each(['ada@mail\u3002example.com', '"ada"@example.com'])(
      'logs in, and counts, an account registered as %s before registration refused that spelling',
      async (spelling) => {
        const email = spelling.replace('ada', `ada-${Date.now()}`);
        const password = 'registered before the rule 12';
        await system.auth.get(AccountsService).register(email, password);
        expect((await request(system.gatewayUrl).post('/api/auth/register').send({ email, password })).status).toBe(400);
        expect((await loginAt(email, password, '10.95.1.1')).status).toBe(200);
        for (let i = 0; i < 5; i++) expect((await loginAt(email, WRONG, '10.95.1.2')).status).toBe(401);
        expect((await loginAt(email, password, '10.95.1.2')).status).toBe(429);
      },
    );

    it('refuses at validation what the lockout could not count', async () => {
      for (const email of ['not-an-email', 'a@b', `${'x'.repeat(250)}@example.com`, 'two@@example.com']) {
        const res = await request(system.gatewayUrl).post('/api/auth/register').send({ email, password: 'a valid passphrase 12' });
        expect(res.status).toBe(400);
      }
    });
  });
});
