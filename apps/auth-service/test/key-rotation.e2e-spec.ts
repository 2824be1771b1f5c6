import { createPublicKey } from 'node:crypto';

import { createRemoteJWKSet, jwtVerify } from 'jose';
import request from 'supertest';

import { bearer, registerAndLogin, sleep, startTestSystem, type TestSystem } from '../../../test/support';
import { createDevSigningKey } from '../src/keys/dev-signing-key';

/**
 * Signing-key rotation as docs/key-rotation.md describes it, as rolling restarts of two
 * auth-service instances while clients keep refreshing and using access tokens: through the
 * gateway, straight at profile-service, and with a third-party verifier (jose) that reads the
 * gateway's JWKS. No valid token may be refused at any moment.
 */

const UA = { 'user-agent': 'jest-e2e/1.0' };
const TTL_SECONDS = 2;
const CLOCK_TOLERANCE_MS = 5000;
const JWKS_MAX_AGE_MS = 300;
const lenient = { RATE_LIMIT_AUTH_LIMIT: '1000', RATE_LIMIT_GENERAL_LIMIT: '100000', RATE_LIMIT_REFRESH_LIMIT: '100000' };

const spki = (privatePem: string) => createPublicKey(privatePem).export({ format: 'pem', type: 'spki' }).toString();

interface Tally {
  requests: number;
  refused: string[];
}

describe('signing-key rotation under continuous traffic', () => {
  let system: TestSystem;
  const oldKey = createDevSigningKey();
  const nextKey = createDevSigningKey();

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'keyrot',
      extraAuthServices: 1,
      env: { JWKS_MAX_AGE_MS: String(JWKS_MAX_AGE_MS), JWKS_REFETCH_COOLDOWN_MS: '100' },
      authEnv: { JWT_PRIVATE_KEY: oldKey, ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) },
      gatewayEnv: lenient,
    });
  });

  afterAll(() => system?.close());

  it('serves the JWKS at the gateway: public members only, cached no longer than a rotation step waits', async () => {
    const res = await request(system.gatewayUrl).get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body).toEqual((await request(system.authUrl).get('/.well-known/jwks.json')).body);
    expect(res.body.keys).toEqual([
      { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: 'ES256', use: 'sig' },
    ]);
  });

  const kids = async () =>
    ((await request(system.gatewayUrl).get('/.well-known/jwks.json')).body.keys as { kid: string }[] | undefined)?.map((k) => k.kid);
  const restartBoth = async (env: Record<string, string>) => {
    for (const index of [0, 1]) await system.restartAuthService(index, env);
  };

  const refreshAt = (index: number, refreshToken: string) =>
    request(system.authUrls[index])
      .post('/auth/refresh')
      .set(UA)
      .send({ refreshToken })
      .then(
        (res) => res,
        () => undefined,
      );

  /** One client: refresh at either auth-service instance, then use the new access token everywhere. */
  async function client(refreshToken: string, tally: Tally, running: () => boolean): Promise<void> {
    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', system.gatewayUrl), {
      cooldownDuration: 100,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
    let token = refreshToken;
    for (let i = 0; running(); i++) {
      // An instance that is restarting drops connections: the client tries the other one, as a load balancer would.
      const res = (await refreshAt(i % 2, token)) ?? (await refreshAt((i + 1) % 2, token));
      tally.requests++;
      if (res?.status === 401) tally.refused.push('refresh');
      if (res?.status !== 200) continue;
      token = res.body.refreshToken as string;
      const accessToken = res.body.accessToken as string;

      const [viaGateway, atProfile] = await Promise.all([
        request(system.gatewayUrl).get('/api/me').set(bearer(accessToken)),
        request(system.profileUrl).get('/profile').set(bearer(accessToken)),
      ]);
      const thirdParty = await jwtVerify(accessToken, jwks, {
        issuer: 'auth-service',
        audience: 'payments-api',
        algorithms: ['ES256'],
      }).then(
        () => 'ok',
        (error: Error) => error.name,
      );
      tally.requests += 3;
      if (viaGateway.status === 401) tally.refused.push('gateway');
      if (atProfile.status === 401) tally.refused.push('profile-service');
      if (thirdParty !== 'ok') tally.refused.push(`jose: ${thirdParty}`);
    }
  }

  it('publish next, switch signing, retire old: zero 401s for valid tokens', async () => {
    const tallies: Tally[] = [];
    let running = true;
    const users = await Promise.all([1, 2, 3].map(() => registerAndLogin(system.gatewayUrl)));
    const clients = users.map((user) => {
      const tally: Tally = { requests: 0, refused: [] };
      tallies.push(tally);
      return client(user.refreshToken, tally, () => running);
    });
    const requests = () => tallies.reduce((sum, t) => sum + t.requests, 0);
    const counts: number[] = [];
    const kidSets: (string[] | undefined)[] = [await kids()];
    try {
      await sleep(500);
      counts.push(requests());

      // 1. Publish the next key; every verifier learns it before it signs.
      await restartBoth({ JWT_PRIVATE_KEY: oldKey, JWT_ADDITIONAL_PUBLIC_KEYS: spki(nextKey) });
      await sleep(JWKS_MAX_AGE_MS * 3);
      kidSets.push(await kids());
      counts.push(requests());

      // 2. Sign with the next key; the old one stays accepted until its last token has expired.
      await restartBoth({ JWT_PRIVATE_KEY: nextKey, JWT_ADDITIONAL_PUBLIC_KEYS: spki(oldKey) });
      await sleep(TTL_SECONDS * 1000 + CLOCK_TOLERANCE_MS + JWKS_MAX_AGE_MS);
      counts.push(requests());

      // 3. Retire the old key.
      await restartBoth({ JWT_PRIVATE_KEY: nextKey });
      await sleep(1000);
      counts.push(requests());
      kidSets.push(await kids());
    } finally {
      running = false;
      await Promise.all(clients);
    }

    const [before, published, retired] = kidSets;
    expect(before).toHaveLength(1);
    expect(published).toEqual([before?.[0], expect.any(String)]);
    expect(retired).toEqual([published?.[1]]);
    // Traffic flowed during every step.
    expect(counts.every((count, i) => count > (counts[i - 1] ?? 0))).toBe(true);
    expect(tallies.flatMap((t) => t.refused)).toEqual([]);
  });
});
