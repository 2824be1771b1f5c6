import request from 'supertest';

import { SecurityEvents } from '@nest-hardening/security-events';

import {
  bearer,
  gatewaySignedHeaders,
  registerAndLogin,
  sleep,
  startRedisServer,
  startTestSystem,
  type TestRedisServer,
  type TestSystem,
} from '../../../test/support';

/**
 * A refresh that Redis is too slow to answer is answered 503 ("not done, retry"). Redis runs the
 * rotation it was sent once it resumes; if that rotation took effect, the token the client still
 * holds would be a retired one, and its retry after the grace window would end the session as reuse.
 */
describe('refresh while Redis stalls past the command timeout (own redis-server)', () => {
  let redis: TestRedisServer;
  let system: TestSystem;
  const ip = '198.51.100.7';

  beforeAll(async () => {
    redis = await startRedisServer();
    system = await startTestSystem({
      label: 'refreshslow',
      env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300' },
      authEnv: { REFRESH_REUSE_GRACE_MS: '500' },
    });
  });

  afterAll(async () => {
    redis?.resume();
    await system?.close();
    await redis?.stop();
  });

  /** Straight at auth-service as the gateway forwards it: the rotation is the request's only Redis call. */
  const refresh = (refreshToken: string) =>
    request(system.authUrl)
      .post('/auth/refresh')
      .set('user-agent', 'jest-e2e/1.0')
      .set(gatewaySignedHeaders(system.gatewaySecret, 'POST', '/auth/refresh', ip))
      .send({ refreshToken });

  it('a refresh answered 503 leaves the refresh token current: a later retry rotates it and the session lives', async () => {
    const emit = jest.spyOn(system.auth.get(SecurityEvents), 'emit');
    const user = await registerAndLogin(system.authUrl, { pathPrefix: '', forwardedFor: ip, gatewaySecret: system.gatewaySecret });
    const first = await refresh(user.refreshToken);
    expect(first.status).toBe(200);

    const answered = await redis.stalled(() => refresh(first.body.refreshToken));
    expect(answered.status).toBe(503);
    // Redis runs the call it was sent; the client retries once it is back, after the grace window.
    await sleep(800);

    const retried = await refresh(first.body.refreshToken);
    expect(retried.status).toBe(200);
    expect((await request(system.authUrl).get('/me').set(bearer(retried.body.accessToken))).status).toBe(200);
    expect((await refresh(retried.body.refreshToken)).status).toBe(200);
    expect(emit).not.toHaveBeenCalledWith(expect.objectContaining({ type: 'refresh_token_reuse' }));
  });
});
