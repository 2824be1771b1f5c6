import { Algorithm, hash, verify } from '@node-rs/argon2';
import request from 'supertest';

import { SecurityEvents, type SecurityEvent } from '@nest-hardening/security-events';

import {
  login,
  registerAndLogin,
  startBreachedPasswordsStub,
  startTestSystem,
  TEST_PASSWORD,
  uniqueEmail,
  type BreachedPasswordsStub,
  type TestSystem,
} from '../../../test/support';
import { PasswordHasher } from '../src/accounts/password-hasher';
import { UsersRepository } from '../src/accounts/users.repository';

/** Lift the gateway's login/register/password budget: every answer observed here is the policy's. */
const GATEWAY_ENV = { RATE_LIMIT_AUTH_LIMIT: '10000', RATE_LIMIT_GENERAL_LIMIT: '100000' };

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * NIST SP 800-63B 3.1.1.2 through the real system (gateway → auth-service → Postgres): weak
 * passwords are refused at registration and at password change with a 400 that says why, good ones
 * pass, passwords are hashed in Unicode NFC (old hashes keep verifying), and the optional breach
 * API is asked by k-anonymity range and fails open.
 */
describe('password policy through the gateway', () => {
  describe('with the default settings', () => {
    let system: TestSystem;
    const api = () => request(system.gatewayUrl);

    beforeAll(async () => {
      system = await startTestSystem({ label: 'pwpolicy', gatewayEnv: GATEWAY_ENV });
    });
    afterAll(() => system?.close());

    /** [what, password for an email, expected error code, words the message must contain] */
    const weak: [string, (email: string) => string, string, RegExp][] = [
      ['fifteen a', () => 'aaaaaaaaaaaaaaa', 'password_pattern', /repeated or sequential pattern/],
      ['a common password', () => 'manchesterunited', 'password_common', /one of the most commonly used passwords/],
      ['fifteen digits in sequence', () => '123456789012345', 'password_pattern', /repeated or sequential pattern/],
      ['fifteen spaces', () => ' '.repeat(15), 'password_pattern', /repeated or sequential pattern/],
      ['the email itself', (email) => email, 'password_email', /must not contain your email address/],
      [
        'the email name plus a suffix',
        (email) => `${email.split('@')[0].toUpperCase()} rocks!`,
        'password_email_name',
        /part before the @/,
      ],
    ];

    it.each(weak)('registration refuses %s with 400 and the reason', async (_what, passwordFor, code, message) => {
      const email = uniqueEmail('weak');
      const password = passwordFor(email);
      const res = await api().post('/api/auth/register').send({ email, password });
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: code });
      expect(res.body.message).toMatch(message);
      // The answer never echoes the password, and no account was created.
      expect(Object.values(res.body).join(' ')).not.toContain(password);
      await expect(login(system.gatewayUrl, email, password)).rejects.toThrow(/401/);
    });

    it.each(weak)(
      'password change refuses %s with 400 and the reason, and keeps the old password',
      async (_what, passwordFor, code, message) => {
        const user = await registerAndLogin(system.gatewayUrl);
        const res = await api()
          .post('/api/auth/password')
          .set(bearer(user.accessToken))
          .send({ currentPassword: user.password, newPassword: passwordFor(user.email) });
        expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: code });
        expect(res.body.message).toMatch(message);
        await expect(login(system.gatewayUrl, user.email, user.password)).resolves.toBeDefined();
      },
    );

    it('accepts a good password at registration and at password change', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { password: TEST_PASSWORD });
      const newPassword = 'violet lanterns drift over the quay';
      const res = await api()
        .post('/api/auth/password')
        .set(bearer(user.accessToken))
        .send({ currentPassword: user.password, newPassword });
      expect(res.status).toBe(204);
      await expect(login(system.gatewayUrl, user.email, newPassword)).resolves.toBeDefined();
    });

    describe('length: 15 to 128 characters for a new password only', () => {
      const LENGTH_MESSAGE = ['password must be 15 to 128 characters long'];

      // NIST SP 800-63B rev. 4 §3.1.1.2: at least 15 characters for a password that is the only factor.
      it('refuses 14 characters and accepts 15, at registration and at password change', async () => {
        const email = uniqueEmail('fourteen');
        const refused = await api().post('/api/auth/register').send({ email, password: 'lantern quay 7' });
        expect({ status: refused.status, message: refused.body.message }).toEqual({ status: 400, message: LENGTH_MESSAGE });
        expect((await api().post('/api/auth/register').send({ email, password: 'lantern quay 71' })).status).toBe(201);
        await expect(login(system.gatewayUrl, email, 'lantern quay 71')).resolves.toBeDefined();

        const user = await registerAndLogin(system.gatewayUrl);
        const change = (newPassword: string) =>
          api().post('/api/auth/password').set(bearer(user.accessToken)).send({ currentPassword: user.password, newPassword });
        const short = await change('lantern quay 7');
        expect({ status: short.status, message: short.body.message }).toEqual({ status: 400, message: LENGTH_MESSAGE });
        expect((await change('lantern quay 71')).status).toBe(204);
        await expect(login(system.gatewayUrl, user.email, 'lantern quay 71')).resolves.toBeDefined();
      });

      // Accounts created under the former 12-character minimum: verification does not apply the
      // length rule, so they keep logging in and meet the new one at their next password change.
      it('an account whose password has 12 characters keeps logging in, and must choose 15 or more when it changes it', async () => {
        const email = uniqueEmail('twelve');
        const legacy = 'lantern quay';
        expect([...legacy]).toHaveLength(12);
        const storedHash = await system.auth.get(PasswordHasher).hash(legacy);
        expect(await system.auth.get(UsersRepository).insert(email, storedHash, 'user')).toBeDefined();

        const tokens = await login(system.gatewayUrl, email, legacy);
        const change = (newPassword: string) =>
          api().post('/api/auth/password').set(bearer(tokens.accessToken)).send({ currentPassword: legacy, newPassword });
        const short = await change('lantern quay 7');
        expect({ status: short.status, message: short.body.message }).toEqual({ status: 400, message: LENGTH_MESSAGE });
        await expect(login(system.gatewayUrl, email, legacy)).resolves.toBeDefined();
        expect((await change('lantern quay 71')).status).toBe(204);
        await expect(login(system.gatewayUrl, email, 'lantern quay 71')).resolves.toBeDefined();
        await expect(login(system.gatewayUrl, email, legacy)).rejects.toThrow(/401/);
      });
    });

    it('refuses a new password equal to the current one', async () => {
      const user = await registerAndLogin(system.gatewayUrl);
      const res = await api()
        .post('/api/auth/password')
        .set(bearer(user.accessToken))
        .send({ currentPassword: user.password, newPassword: user.password });
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'password_unchanged' });
    });

    describe('one account per email, however it is spelled', () => {
      const fullwidth = (text: string) => text.replace(/[a-z0-9]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));

      it('refuses full-width, decomposed and upper-case spellings of a registered email, and logs them in to that account', async () => {
        const email = uniqueEmail('josé');
        const [local, domain] = email.split('@');
        expect((await api().post('/api/auth/register').send({ email, password: TEST_PASSWORD })).status).toBe(201);
        for (const spelling of [`${fullwidth(local)}@${domain}`, email.normalize('NFD'), `${local.toUpperCase()}@${domain}`]) {
          const res = await api().post('/api/auth/register').send({ email: spelling, password: TEST_PASSWORD });
          expect({ spelling, status: res.status }).toEqual({ spelling, status: 409 });
          await expect(login(system.gatewayUrl, spelling, TEST_PASSWORD)).resolves.toBeDefined();
        }
      });

      it('refuses an email with an invisible character (zero-width space, bidi override, grapheme joiner, filler) with 400', async () => {
        const [local, domain] = uniqueEmail('ada').split('@');
        for (const invisible of ['\u200b', '\u202e', '\u00ad', '\u034f', '\ufe0f', '\u3164']) {
          const res = await api()
            .post('/api/auth/register')
            .send({ email: `${local}${invisible}@${domain}`, password: TEST_PASSWORD });
          expect({ invisible, status: res.status }).toEqual({ invisible, status: 400 });
        }
      });
    });

    describe('Unicode normalisation (NFC)', () => {
      const NFC = 'crème brûlée à la française';
      const NFD = NFC.normalize('NFD');

      it('a password registered in NFD logs in with the NFC spelling and with its own, and is stored as NFC', async () => {
        expect(NFD).not.toBe(NFC);
        const email = uniqueEmail('nfd');
        expect((await api().post('/api/auth/register').send({ email, password: NFD })).status).toBe(201);
        await expect(login(system.gatewayUrl, email, NFC)).resolves.toBeDefined();
        await expect(login(system.gatewayUrl, email, NFD)).resolves.toBeDefined();
        const row = await system.auth.get(UsersRepository).findByEmail(email);
        expect(await verify(row!.password_hash, NFC)).toBe(true);
      });

      it('a password registered in NFC logs in with the NFD spelling', async () => {
        const email = uniqueEmail('nfc');
        expect((await api().post('/api/auth/register').send({ email, password: NFC })).status).toBe(201);
        await expect(login(system.gatewayUrl, email, NFD)).resolves.toBeDefined();
      });

      it('a hash set before normalisation (from the raw NFD string) still logs in with that spelling', async () => {
        const email = uniqueEmail('legacy');
        const legacyHash = await hash(NFD, { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
        expect(await system.auth.get(UsersRepository).insert(email, legacyHash, 'user')).toBeDefined();
        await expect(login(system.gatewayUrl, email, NFD)).resolves.toBeDefined();
      });

      it('counts the length after NFC: sixteen code points that compose to eight are too short, at registration and change', async () => {
        const short = 'áéíóúýàè'.normalize('NFD');
        expect([...short]).toHaveLength(16);
        const email = uniqueEmail('nfdshort');
        const registered = await api().post('/api/auth/register').send({ email, password: short });
        expect({ status: registered.status, message: registered.body.message }).toEqual({
          status: 400,
          message: ['password must be 15 to 128 characters long'],
        });
        await expect(login(system.gatewayUrl, email, 'áéíóúýàè')).rejects.toThrow(/401/);
        const user = await registerAndLogin(system.gatewayUrl);
        const changed = await api()
          .post('/api/auth/password')
          .set(bearer(user.accessToken))
          .send({ currentPassword: user.password, newPassword: short });
        expect(changed.status).toBe(400);
        await expect(login(system.gatewayUrl, user.email, user.password)).resolves.toBeDefined();
      });

      it('a changed password is stored as NFC too', async () => {
        const user = await registerAndLogin(system.gatewayUrl);
        const res = await api()
          .post('/api/auth/password')
          .set(bearer(user.accessToken))
          .send({ currentPassword: user.password, newPassword: NFD });
        expect(res.status).toBe(204);
        await expect(login(system.gatewayUrl, user.email, NFC)).resolves.toBeDefined();
      });
    });
  });

  describe('with a breached-password API configured', () => {
    const BREACHED = 'velvet thunder over marble hills';
    let system: TestSystem;
    let stub: BreachedPasswordsStub;
    let emit: jest.SpyInstance<void, [SecurityEvent]>;
    const api = () => request(system.gatewayUrl);

    beforeAll(async () => {
      stub = await startBreachedPasswordsStub([BREACHED]);
      system = await startTestSystem({ label: 'pwbreach', gatewayEnv: GATEWAY_ENV, authEnv: { PASSWORD_BREACH_API_URL: stub.url } });
      emit = jest.spyOn(system.auth.get(SecurityEvents), 'emit'); // calls through
    });
    afterAll(async () => {
      await system?.close();
      await stub?.close();
    });

    it('refuses a breached password with 400 and accepts one the API does not know, sending only a 5-digit hash prefix', async () => {
      const refused = await api()
        .post('/api/auth/register')
        .send({ email: uniqueEmail('breach'), password: BREACHED });
      expect({ status: refused.status, error: refused.body.error }).toEqual({ status: 400, error: 'password_breached' });
      expect(refused.body.message).toMatch(/appeared in a known data breach/);
      const accepted = await api()
        .post('/api/auth/register')
        .send({ email: uniqueEmail('breach'), password: TEST_PASSWORD });
      expect(accepted.status).toBe(201);
      expect(stub.requests.length).toBeGreaterThanOrEqual(2);
      for (const path of stub.requests) expect(path).toMatch(/^\/range\/[0-9A-F]{5}$/);
    });

    it('refuses a breached password at password change', async () => {
      const user = await registerAndLogin(system.gatewayUrl);
      const res = await api()
        .post('/api/auth/password')
        .set(bearer(user.accessToken))
        .send({ currentPassword: user.password, newPassword: BREACHED });
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'password_breached' });
    });

    it('fails open when the API is unreachable: 201, and a security event', async () => {
      await stub.close();
      emit.mockClear();
      const res = await api()
        .post('/api/auth/register')
        .send({ email: uniqueEmail('breach'), password: BREACHED });
      expect(res.status).toBe(201);
      expect(emit).toHaveBeenCalledWith(expect.objectContaining({ type: 'password_breach_check_unavailable', severity: 'warning' }));
    });
  });
});
