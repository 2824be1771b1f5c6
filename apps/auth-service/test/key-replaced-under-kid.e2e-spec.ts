import request from 'supertest';

import { bearer, login, registerAndLogin, startTestSystem, TEST_PASSWORD, type TestSystem } from '../../../test/support';
import { createDevSigningKey } from '../src/keys/dev-signing-key';

/**
 * A compromised signing key replaced under the same `kid` (a fixed `JWT_KEY_ID`), all at once, as
 * docs/key-rotation.md allows: the verifiers must take the new key's tokens and refuse the old
 * key's from the first token the new key signs, not only at their next scheduled re-read.
 */
describe('signing key replaced under the same kid (compromised key)', () => {
  let system: TestSystem;
  const compromised = createDevSigningKey();
  const replacement = createDevSigningKey();
  const email = `kid-${Date.now()}@example.test`;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'samekid',
      // The scheduled re-read is far away: only the tokens themselves can tell the verifiers.
      env: { JWKS_MAX_AGE_MS: '3600000', JWKS_REFETCH_COOLDOWN_MS: '1' },
      authEnv: { JWT_PRIVATE_KEY: compromised, JWT_KEY_ID: 'payments-1' },
    });
  });

  afterAll(() => system?.close());

  const statuses = async (token: string) => [
    (await request(system.gatewayUrl).get('/api/me').set(bearer(token))).status,
    (await request(system.profileUrl).get('/profile').set(bearer(token))).status,
  ];

  it('accepts the new key’s tokens at once, and from then on refuses tokens the old key signed', async () => {
    const before = await registerAndLogin(system.gatewayUrl, { email });
    expect(await statuses(before.accessToken)).toEqual([200, 200]);

    await system.restartAuthService(0, { JWT_PRIVATE_KEY: replacement, JWT_KEY_ID: 'payments-1' });
    const after = await login(system.gatewayUrl, email, TEST_PASSWORD);

    expect(await statuses(after.accessToken)).toEqual([200, 200]);
    expect(await statuses(before.accessToken)).toEqual([401, 401]);
  });
});
