import { createHmac, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';

import { sign } from 'jsonwebtoken';
import request from 'supertest';

import { withLowS } from '@nest-hardening/auth';
import { REDIS_CLIENT, type RedisClient } from '@nest-hardening/redis';

import { AccountsService } from '../../apps/auth-service/src/accounts/accounts.service';
import { SigningKeyService } from '../../apps/auth-service/src/keys/signing-key.service';
import { claimsOf, login, registerAndLogin, startTestSystem, uniqueEmail, type TestSystem, type TestUser } from '../support';

/** The whole system through the gateway: accounts, tokens, sessions, and what it refuses. */
describe('foundation (gateway → auth-service, profile-service)', () => {
  let system: TestSystem;
  let user: TestUser;

  // Generous budgets: this suite is about authentication, the rate-limit suite tests limits.
  const lenient = { RATE_LIMIT_AUTH_LIMIT: '1000', RATE_LIMIT_GENERAL_LIMIT: '10000', RATE_LIMIT_REFRESH_LIMIT: '1000' };

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'foundation',
      gatewayEnv: lenient,
      authEnv: { BOOTSTRAP_ADMIN_EMAIL: 'Root@Example.com', BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap admin password' },
    });
    user = await registerAndLogin(system.gatewayUrl);
  });

  afterAll(() => system?.close());

  const api = () => request(system.gatewayUrl);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  describe('accounts', () => {
    it('registers, rejects a taken email (case-insensitively) with 409', async () => {
      const email = uniqueEmail('dup');
      const first = await api().post('/api/auth/register').send({ email, password: 'a long enough password' });
      expect(first.status).toBe(201);
      expect(first.body).toEqual({ id: expect.any(String), email });
      const again = await api().post('/api/auth/register').send({ email: email.toUpperCase(), password: 'another long password' });
      expect(again.status).toBe(409);
    });

    it.each([
      ['an invalid email', { email: 'not-an-email', password: 'a long enough password' }],
      ['a 14-character password', { email: uniqueEmail(), password: 'lantern quay 7' }],
      ['a 129-character password', { email: uniqueEmail(), password: 'x'.repeat(129) }],
      ['a missing password', { email: uniqueEmail() }],
      ['a non-string password', { email: uniqueEmail(), password: 123456789012345 }],
    ])('refuses %s with 400', async (_case, body) => {
      const res = await api().post('/api/auth/register').send(body);
      expect(res.status).toBe(400);
    });

    it('counts password length in characters, not bytes, and never truncates', async () => {
      const email = uniqueEmail('unicode');
      const password = '🔐🐢🌵🚲🎻🧭🍋🦉🌋🧲🎈🪁🪐🎸🦊'; // 15 characters, 60 bytes
      expect((await api().post('/api/auth/register').send({ email, password })).status).toBe(201);
      expect((await api().post('/api/auth/login').send({ email, password })).status).toBe(200);
      // A 128-character password is accepted, and only the exact value logs in.
      const longEmail = uniqueEmail('long');
      const start = 'violet lanterns drift over the quay '.repeat(4).slice(0, 127);
      const long = `${start}b`;
      expect((await api().post('/api/auth/register').send({ email: longEmail, password: long })).status).toBe(201);
      expect(
        (
          await api()
            .post('/api/auth/login')
            .send({ email: longEmail, password: `${start}c` })
        ).status,
      ).toBe(401);
    });

    it('answers a wrong password and an unknown email identically', async () => {
      const wrong = await api().post('/api/auth/login').send({ email: user.email, password: 'definitely not it' });
      const unknown = await api()
        .post('/api/auth/login')
        .send({ email: uniqueEmail('nobody'), password: 'definitely not it' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(wrong.body);
    });

    it('creates the bootstrap admin once, with a normalised email', async () => {
      const login = await api().post('/api/auth/login').send({ email: 'root@example.com', password: 'bootstrap admin password' });
      expect(login.status).toBe(200);
      const me = await api().get('/api/me').set(bearer(login.body.accessToken));
      expect(me.body).toMatchObject({ email: 'root@example.com', role: 'admin' });
      // Idempotent: a second start-up with the same settings neither fails nor creates another admin.
      await system.auth.get(AccountsService).onApplicationBootstrap();
      const again = await api().post('/api/auth/login').send({ email: 'root@example.com', password: 'bootstrap admin password' });
      expect(again.status).toBe(200);
    });
  });

  describe('the token lifecycle', () => {
    it('logs in with the documented response shape', async () => {
      const res = await api().post('/api/auth/login').send({ email: user.email, password: user.password });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
      const [header, payload] = res.body.accessToken
        .split('.')
        .slice(0, 2)
        .map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()));
      expect(header).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
      expect(payload).toMatchObject({
        sub: user.id,
        sid: expect.any(String),
        role: 'user',
        jti: expect.any(String),
        iss: 'auth-service',
        aud: 'payments-api',
      });
      expect(payload.exp - payload.iat).toBe(900);
    });

    it('serves /api/me and /api/profile, and profile-service answers directly too', async () => {
      const me = await api().get('/api/me').set(bearer(user.accessToken));
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: user.id, email: user.email, role: 'user' });

      const patched = await api().patch('/api/profile').set(bearer(user.accessToken)).send({ displayName: 'Ada' });
      expect(patched.status).toBe(200);
      const profile = await api().get('/api/profile').set(bearer(user.accessToken));
      expect(profile.body).toMatchObject({ userId: user.id, displayName: 'Ada' });
      const direct = await request(system.profileUrl).get('/profile').set(bearer(user.accessToken));
      expect(direct.status).toBe(200);
      expect(direct.body.displayName).toBe('Ada');
    });

    it('changes the display name only when the body names it: absent keeps it, null clears it', async () => {
      const patch = (body: object) => api().patch('/api/profile').set(bearer(user.accessToken)).send(body);
      expect((await patch({ displayName: 'Ada Lovelace' })).body.displayName).toBe('Ada Lovelace');
      expect((await patch({})).body.displayName).toBe('Ada Lovelace');
      expect((await api().get('/api/profile').set(bearer(user.accessToken))).body.displayName).toBe('Ada Lovelace');
      expect((await patch({ displayName: null })).body.displayName).toBeNull();
    });

    it('refuses the access token everywhere once the session is logged out', async () => {
      const session = await registerAndLogin(system.gatewayUrl);
      expect((await api().get('/api/me').set(bearer(session.accessToken))).status).toBe(200);
      expect((await request(system.profileUrl).get('/profile').set(bearer(session.accessToken))).status).toBe(200);

      const logout = await api().post('/api/auth/logout').set(bearer(session.accessToken));
      expect(logout.status).toBe(204);

      expect((await api().get('/api/me').set(bearer(session.accessToken))).status).toBe(401);
      expect((await api().get('/api/profile').set(bearer(session.accessToken))).status).toBe(401);
      expect((await request(system.profileUrl).get('/profile').set(bearer(session.accessToken))).status).toBe(401);
      expect((await request(system.authUrl).get('/me').set(bearer(session.accessToken))).status).toBe(401);
      // ...and the session's refresh token is dead as well.
      const refresh = await api().post('/api/auth/refresh').send({ refreshToken: session.refreshToken });
      expect(refresh.status).toBe(401);
    });

    it('logout checks the session in its own script: one Redis call, and a token already logged out is refused', async () => {
      const session = await registerAndLogin(system.gatewayUrl);
      const redis = system.auth.get<RedisClient>(REDIS_CLIENT);
      const scripts = jest.spyOn(redis, 'evalsha');
      try {
        expect((await request(system.authUrl).post('/auth/logout').set(bearer(session.accessToken))).status).toBe(204);
        expect(scripts).toHaveBeenCalledTimes(1);
      } finally {
        scripts.mockRestore();
      }
      expect((await request(system.authUrl).post('/auth/logout').set(bearer(session.accessToken))).status).toBe(401);
      const other = await registerAndLogin(system.gatewayUrl);
      const second = await login(system.gatewayUrl, other.email, other.password);
      expect(
        (
          await api()
            .delete(`/api/me/sessions/${claimsOf(other.accessToken).sid as string}`)
            .set(bearer(second.accessToken))
        ).status,
      ).toBe(204);
      expect((await request(system.authUrl).post('/auth/logout').set(bearer(other.accessToken))).status).toBe(401);
    });

    it.each([
      ['garbage', 'not-a-token'],
      ['a well-formed but forged token', `${randomUUID()}.AAAAAAAAAAAAAAAAAAAAAA.0.${'A'.repeat(43)}`],
    ])('refuses %s as a refresh token with 401', async (_case, refreshToken) => {
      const res = await api().post('/api/auth/refresh').send({ refreshToken });
      expect(res.status).toBe(401);
    });
  });

  describe('hostile tokens are refused by the gateway and by profile-service', () => {
    let privateKey: ReturnType<SigningKeyService['privateKey']['export']> | SigningKeyService['privateKey'];
    let kid: string;
    let claims: Record<string, unknown>;

    beforeAll(() => {
      const keys = system.auth.get(SigningKeyService);
      privateKey = keys.privateKey;
      kid = keys.keyId;
      const payload = JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString());
      claims = { sub: payload.sub, sid: payload.sid, role: 'admin', jti: randomUUID() };
    });

    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forge = (overrides: Record<string, unknown> = {}, options: Record<string, unknown> = {}) => {
      const signOptions: Record<string, unknown> = {
        algorithm: 'ES256',
        keyid: kid,
        issuer: 'auth-service',
        audience: 'payments-api',
        expiresIn: 300,
        ...options,
      };
      if ('exp' in overrides) delete signOptions.expiresIn;
      // Low s, as auth-service signs: the other of the two valid ECDSA signatures is refused.
      return withLowS(sign({ ...claims, jti: randomUUID(), ...overrides }, privateKey as never, signOptions));
    };

    const cases: [string, () => string][] = [
      [
        'a tampered payload',
        () => {
          const [h, , s] = user.accessToken.split('.');
          return `${h}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 })}.${s}`;
        },
      ],
      ['a tampered signature', () => user.accessToken.slice(0, -4) + (user.accessToken.endsWith('AAAA') ? 'BBBB' : 'AAAA')],
      [
        'alg: none',
        () =>
          `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64({ ...claims, iss: 'auth-service', aud: 'payments-api', exp: Math.floor(Date.now() / 1000) + 600 })}.`,
      ],
      [
        'HS256 signed with the public key',
        () => {
          const publicPem = createPublicKey(privateKey as never).export({ type: 'spki', format: 'pem' }) as string;
          const header = b64({ alg: 'HS256', typ: 'JWT', kid });
          const body = b64({ ...claims, iss: 'auth-service', aud: 'payments-api', exp: Math.floor(Date.now() / 1000) + 600 });
          const mac = createHmac('sha256', publicPem).update(`${header}.${body}`).digest('base64url');
          return `${header}.${body}.${mac}`;
        },
      ],
      ['an expired token', () => forge({ exp: Math.floor(Date.now() / 1000) - 60 })],
      ['a wrong issuer', () => forge({}, { issuer: 'someone-else' })],
      ['a wrong audience', () => forge({}, { audience: 'other-api' })],
      [
        'a key auth-service never published',
        () =>
          sign({ ...claims }, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, {
            algorithm: 'ES256',
            keyid: kid,
            issuer: 'auth-service',
            audience: 'payments-api',
            expiresIn: 300,
          }),
      ],
      ['an unknown kid', () => forge({}, { keyid: 'unknown-kid' })],
      ['a session id that does not exist', () => forge({ sid: 'AAAAAAAAAAAAAAAAAAAAAA' })],
      ['a Basic scheme', () => 'dXNlcjpwYXNz'],
    ];

    it('accepts a correctly forged token for a live session (the control case)', async () => {
      // Proves the cases below fail for the reason they name, not for a mistake in forging.
      const res = await api().get('/api/me').set(bearer(forge()));
      expect(res.status).toBe(200);
    });

    it.each(cases)('%s → 401', async (_name, make) => {
      const token = make();
      const header = _name === 'a Basic scheme' ? { authorization: `Basic ${token}` } : bearer(token);
      const viaGateway = await api().get('/api/me').set(header);
      const direct = await request(system.profileUrl).get('/profile').set(header);
      expect(viaGateway.status).toBe(401);
      expect(direct.status).toBe(401);
      expect(JSON.stringify(viaGateway.body)).not.toMatch(/stack|at \w+ \(|node_modules/);
    });

    it('refuses a request with no token at all', async () => {
      expect((await api().get('/api/me')).status).toBe(401);
      expect((await api().get('/api/profile')).status).toBe(401);
    });
  });

  describe('hostile bodies get a clear 4xx, never a 5xx', () => {
    it('malformed JSON → 400', async () => {
      const res = await api().post('/api/auth/login').set('content-type', 'application/json').send('{"email": "a@b.c", ');
      expect(res.status).toBe(400);
      expect(res.body.statusCode).toBe(400);
    });

    it('a 1 MB body → 413', async () => {
      const res = await api()
        .post('/api/auth/register')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ email: uniqueEmail(), password: 'x'.repeat(1024 * 1024) }));
      expect(res.status).toBe(413);
    });

    it('a display name Postgres would store altered (a lone UTF-16 surrogate) → 400', async () => {
      const res = await api()
        .patch('/api/profile')
        .set(bearer(user.accessToken))
        .set('content-type', 'application/json')
        .send('{"displayName":"Ada \\ud800"}');
      expect([res.status, res.body.displayName]).toEqual([400, undefined]);
    });

    it('unknown fields → 400', async () => {
      const res = await api().post('/api/auth/register').send({ email: uniqueEmail(), password: 'a long enough password', role: 'admin' });
      expect(res.status).toBe(400);
    });

    // Nest's ValidationPipe deletes these keys before validating (they could reach a prototype), so
    // its whitelist never saw them: the body was served as if they had not been sent.
    it.each(['__proto__', 'constructor', 'prototype'])('an unknown field named %s → 400 too, and no account is created', async (key) => {
      const email = uniqueEmail();
      const body = `{"email":"${email}","password":"a long enough password","${key}":{"role":"admin"}}`;
      const res = await api().post('/api/auth/register').set('content-type', 'application/json').send(body);
      expect([res.status, res.body.message]).toEqual([400, ['the body has a property that is not allowed']]);
      expect((await api().post('/api/auth/login').send({ email, password: 'a long enough password' })).status).toBe(401);
    });

    it('a JSON array, a string and null → 400', async () => {
      for (const body of ['[]', '"text"', 'null']) {
        const res = await api().post('/api/auth/login').set('content-type', 'application/json').send(body);
        expect(res.status).toBe(400);
      }
    });

    it('a non-JSON content type → 415', async () => {
      const res = await api().post('/api/auth/login').set('content-type', 'text/plain').send('email=a');
      expect(res.status).toBe(415);
    });

    it('an unknown route → 404 from the gateway, without reaching a service', async () => {
      const res = await api().get('/api/admin/secrets').set(bearer(user.accessToken));
      expect(res.status).toBe(404);
    });
  });

  it('reports liveness and readiness without a token', async () => {
    for (const url of [system.gatewayUrl, system.authUrl, system.profileUrl]) {
      expect((await request(url).get('/health')).status).toBe(200);
      const ready = await request(url).get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.info.redis.status).toBe('up');
    }
  });

  it('publishes the public key set and OpenAPI documentation', async () => {
    const jwks = await request(system.authUrl).get('/.well-known/jwks.json');
    expect(jwks.body.keys).toEqual([
      expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) }),
    ]);
    expect(jwks.body.keys[0].d).toBeUndefined();
    const docs = await request(system.authUrl).get('/docs-json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/auth/login', '/auth/refresh', '/me/sessions']));
  });
});
