import request from 'supertest';

import { bearer, registerAndLogin, startTestSystem, type TestSystem } from '../../../test/support';

/**
 * Several apps in one process (as the e2e suites, or an adopter hosting two Nest apps, run them):
 * each verifies access tokens with its own settings (issuer, audience, keys), never with those of
 * another app that registered its token strategy later.
 */
describe('token verification is per app, also with several apps in one process', () => {
  let system: TestSystem;

  beforeAll(async () => {
    // profile-service expects another audience than the gateway, which is created after it.
    system = await startTestSystem({ label: 'perapp', profileEnv: { JWT_AUDIENCE: 'statements-api' } });
  });

  afterAll(() => system?.close());

  it('refuses at profile-service a token for the gateway’s audience, which the gateway accepts', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    expect((await request(system.gatewayUrl).get('/api/me').set(bearer(user.accessToken))).status).toBe(200);
    expect((await request(system.profileUrl).get('/profile').set(bearer(user.accessToken))).status).toBe(401);
  });
});
