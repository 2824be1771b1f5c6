import request from 'supertest';
import { bearer, registerAndLogin, startTestSystem, type TestSystem } from '@lib/testing';

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
    expect((await request(system.gatewayUrl).get('/api/me').set(bearer(during.body.accessToken as string))).status).toBe(200);

    // The overlap ends: the successor was MAC'd, and the session's fingerprint stored, under the new secrets.
    await system.restartAuthService(0, { REFRESH_TOKEN_SECRET: secret('refresh v2'), FINGERPRINT_SECRET: secret('fingerprint v2') });
    expect((await refresh(during.body.refreshToken as string)).status).toBe(200);
    // A session not refreshed during the overlap has to log in again.
    expect((await refresh(idle.refreshToken)).status).toBe(401);
  });
});
