import request from 'supertest';

import {
  bearer,
  callFrom,
  freshLoopbackIp,
  gatewaySignedHeaders,
  registerAndLogin,
  startTestSystem,
  type TestSystem,
} from '../../../test/support';

/**
 * Rotating the HMAC secrets of auth-service as docs/key-rotation.md describes it: restart with the
 * new value and the old one as `<NAME>_PREVIOUS`, then, after the overlap, with the new one alone.
 */

const UA = { 'user-agent': 'jest-e2e/1.0' };
const lenient = { RATE_LIMIT_AUTH_LIMIT: '1000', RATE_LIMIT_GENERAL_LIMIT: '10000', RATE_LIMIT_REFRESH_LIMIT: '10000' };
const secret = (name: string) => `${name} for the secret-rotation e2e test`;

describe('HMAC secret rotation', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'secrot',
      authEnv: {
        REFRESH_TOKEN_SECRET: secret('refresh v1'),
        FINGERPRINT_SECRET: secret('fingerprint v1'),
        LOCKOUT_SECRET: secret('lockout v1'),
        // Both fingerprint components end the session on a mismatch, so a fingerprint lost in the rotation shows.
        FINGERPRINT_IP_POLICY: 'strict',
        // The logins straight at auth-service below come from one socket address.
        RATE_LIMIT_AUTH_LIMIT: '1000',
      },
      gatewayEnv: lenient,
    });
  });

  afterAll(() => system?.close());

  const refresh = (refreshToken: string) => request(system.gatewayUrl).post('/api/auth/refresh').set(UA).send({ refreshToken });
  const login = (email: string, password: string) => request(system.gatewayUrl).post('/api/auth/login').set(UA).send({ email, password });

  it('keeps counting login failures across a LOCKOUT_SECRET rotation', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    for (let i = 0; i < 3; i++) expect((await login(user.email, 'not the password at all')).status).toBe(401);

    await system.restartAuthService(0, { LOCKOUT_SECRET: secret('lockout v2'), LOCKOUT_SECRET_PREVIOUS: secret('lockout v1') });
    for (let i = 0; i < 2; i++) expect((await login(user.email, 'not the password at all')).status).toBe(401);
    expect((await login(user.email, user.password)).status).toBe(429);

    await system.restartAuthService(0, { LOCKOUT_SECRET: secret('lockout v2') });
    expect((await login(user.email, user.password)).status).toBe(429);
  });

  it('keeps sessions refreshing across a rotation of REFRESH_TOKEN_SECRET and FINGERPRINT_SECRET', async () => {
    const active = await registerAndLogin(system.gatewayUrl);
    const idle = await registerAndLogin(system.gatewayUrl);

    await system.restartAuthService(0, {
      REFRESH_TOKEN_SECRET: secret('refresh v2'),
      REFRESH_TOKEN_SECRET_PREVIOUS: secret('refresh v1'),
      FINGERPRINT_SECRET: secret('fingerprint v2'),
      FINGERPRINT_SECRET_PREVIOUS: secret('fingerprint v1'),
    });
    const during = await refresh(active.refreshToken);
    expect(during.status).toBe(200);
    expect(
      (
        await request(system.gatewayUrl)
          .get('/api/me')
          .set(bearer(during.body.accessToken as string))
      ).status,
    ).toBe(200);

    // The overlap ends: the successor was MAC'd, and the session's fingerprint stored, under the new secrets.
    await system.restartAuthService(0, { REFRESH_TOKEN_SECRET: secret('refresh v2'), FINGERPRINT_SECRET: secret('fingerprint v2') });
    expect((await refresh(during.body.refreshToken as string)).status).toBe(200);
    // A session not refreshed during the overlap has to log in again.
    expect((await refresh(idle.refreshToken)).status).toBe(401);
  });

  it('believes gateway signatures made with either value during a GATEWAY_SECRET rotation', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const oldSecret = system.gatewaySecret;
    const newSecret = secret('gateway v2');
    /** The address auth-service recorded for a login signed with `signingSecret`. */
    const recordedAddress = async (signingSecret: string, forwardedFor: string) => {
      const headers = gatewaySignedHeaders(signingSecret, 'POST', '/auth/login', forwardedFor);
      const res = await callFrom(system.authUrl, 'POST', '/auth/login', {
        from: '127.0.0.1',
        body: { email: user.email, password: user.password },
        headers,
      });
      expect(res.status).toBe(200);
      const sessions = await callFrom(system.authUrl, 'GET', '/me/sessions', {
        from: '127.0.0.1',
        headers: bearer(res.body.accessToken as string),
      });
      return (sessions.body as unknown as { current: boolean; ip: string }[]).find((s) => s.current)?.ip;
    };

    // The services accept the new value first; the gateway, still signing with the old one, keeps working.
    await system.restartAuthService(0, { GATEWAY_SECRET: newSecret, GATEWAY_SECRET_PREVIOUS: oldSecret });
    expect(await recordedAddress(oldSecret, '203.0.113.21')).toBe('203.0.113.21');
    expect(await recordedAddress(newSecret, '203.0.113.22')).toBe('203.0.113.22');
    const from = freshLoopbackIp();
    expect(
      (await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: { email: user.email, password: user.password } })).status,
    ).toBe(200);

    await system.restartAuthService(0, { GATEWAY_SECRET: newSecret });
    expect(await recordedAddress(newSecret, '203.0.113.23')).toBe('203.0.113.23');
    expect(await recordedAddress(oldSecret, '203.0.113.24')).toBe('127.0.0.1');
  });
});
