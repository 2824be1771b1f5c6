import request from 'supertest';

import { ACCOUNT_LOCKED_MESSAGE } from '@nest-hardening/lockout';
import { createRedisClient } from '@nest-hardening/redis';
import { sessionsKeys } from '@nest-hardening/sessions';

import { PasswordHasher } from '../../apps/auth-service/src/accounts/password-hasher';
import {
  bearer,
  eventually,
  LOCKOUT_TEST_ENV,
  login,
  registerAndLogin,
  sessionIdOf,
  sleep,
  startRedisCluster,
  startTestSystem,
  TEST_PASSWORD,
  uniqueEmail,
  type TestRedisCluster,
  type TestSystem,
  type TestTokens,
} from '../support';

/**
 * The three apps on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES), through the gateway:
 * lockout (with its bound on concurrent guesses), refresh rotation with reuse detection, and
 * revocation reaching the gateway and profile-service. The cluster requires a password and speaks
 * only TLS, as a managed one does: every app reaches it through `rediss://:password@` seeds and
 * REDIS_TLS_CA_FILE.
 */
describe('the system on a real 3-master Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let system: TestSystem;
  let adminToken: string;

  const WRONG = 'not the right password';
  const ADMIN = { email: 'cluster-admin@example.com', password: 'admin password for the cluster' };
  const UA = { 'user-agent': 'jest-e2e/1.0' };

  beforeAll(async () => {
    cluster = await startRedisCluster({ password: 'cluster-e2e-password', tls: true });
    system = await startTestSystem({
      label: 'cluster',
      env: cluster.env,
      gatewayEnv: {
        TRUSTED_PROXIES: 'loopback',
        RATE_LIMIT_AUTH_LIMIT: '10000',
        RATE_LIMIT_GENERAL_LIMIT: '100000',
        RATE_LIMIT_REFRESH_LIMIT: '10000',
      },
      authEnv: {
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        REFRESH_REUSE_GRACE_MS: '500',
        ...LOCKOUT_TEST_ENV,
      },
    });
    adminToken = (await login(system.gatewayUrl, ADMIN.email, ADMIN.password)).accessToken;
  }, 60_000);

  afterAll(async () => {
    await system?.close();
    await cluster?.stop();
  });

  const api = () => request(system.gatewayUrl);
  const attempt = (email: string, password: string, ip: string) =>
    api().post('/api/auth/login').set({ 'x-forwarded-for': ip, 'user-agent': 'cluster-e2e/1.0' }).send({ email, password });
  const refresh = (refreshToken: string) => api().post('/api/auth/refresh').set(UA).send({ refreshToken });
  const gatewayStatus = async (token: string) => (await api().get('/api/me').set(bearer(token))).status;
  const profileStatus = async (token: string) => (await request(system.profileUrl).get('/profile').set(bearer(token))).status;
  /** Refused by the gateway and by profile-service directly, within the 1 s promise. */
  const refusedEverywhere = (token: string) =>
    eventually(async () => (await gatewayStatus(token)) === 401 && (await profileStatus(token)) === 401, 1000, 5);

  async function register(label: string): Promise<{ id: string; email: string }> {
    const email = uniqueEmail(label);
    const res = await api().post('/api/auth/register').send({ email, password: TEST_PASSWORD });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, email };
  }

  it('lets at most 5 of 50 concurrent wrong logins for one pair reach the password check; the rest get 429', async () => {
    const user = await register('burst');
    const ip = '10.88.0.1';
    const hasher = system.auth.get(PasswordHasher);
    const before = hasher.verifications;

    const answers = await Promise.all(Array.from({ length: 50 }, () => attempt(user.email, WRONG, ip)));
    const verified = hasher.verifications - before;

    expect(verified).toBeLessThanOrEqual(5);
    expect(answers.filter((r) => r.status === 401)).toHaveLength(verified);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(50 - verified);
    const locked = await attempt(user.email, TEST_PASSWORD, ip);
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ message: ACCOUNT_LOCKED_MESSAGE });
    expect(hasher.verifications - before).toBe(verified);
  });

  it('locks an account at the ceiling across addresses; an admin sees the state and unlocks it', async () => {
    const user = await register('ceiling');
    for (let i = 0; i < 4; i++) expect((await attempt(user.email, WRONG, '10.88.1.1')).status).toBe(401);
    for (let i = 0; i < 4; i++) expect((await attempt(user.email, WRONG, '10.88.1.2')).status).toBe(401);
    expect((await attempt(user.email, TEST_PASSWORD, '10.88.1.3')).status).toBe(429);

    const state = await api().get(`/api/accounts/${user.id}/lockout`).set(bearer(adminToken));
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ locked: true, emailLocked: true, emailFailures: 8 });
    expect(state.body.addresses).toHaveLength(2);

    expect((await api().patch(`/api/accounts/${user.id}/unlock`).set(bearer(adminToken))).status).toBe(200);
    expect((await api().get(`/api/accounts/${user.id}/lockout`).set(bearer(adminToken))).body).toMatchObject({
      locked: false,
      emailFailures: 0,
    });
    expect((await attempt(user.email, TEST_PASSWORD, '10.88.1.3')).status).toBe(200);
  });

  it('rotates refresh tokens, and reuse of a rotated token ends the session everywhere', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const rotated = await refresh(user.refreshToken);
    expect(rotated.status).toBe(200);
    const successor = rotated.body as TestTokens;
    expect(successor.refreshToken).not.toBe(user.refreshToken);
    expect(await gatewayStatus(successor.accessToken)).toBe(200);
    expect(await profileStatus(successor.accessToken)).toBe(200);

    await sleep(800);
    expect((await refresh(user.refreshToken)).status).toBe(401);

    expect((await refresh(successor.refreshToken)).status).toBe(401);
    expect(await refusedEverywhere(successor.accessToken)).toBe(true);
  });

  it('logout: the revocation is published on the cluster, and the token is refused by the gateway and profile-service within 1 s', async () => {
    // A subscriber of its own, on whichever node the cluster client picks: PUBLISH from a script reaches every node.
    const subscriber = createRedisClient({
      url: '',
      clusterNodes: cluster.nodes,
      ...cluster.connection,
      keyPrefix: system.keyPrefix,
      commandTimeoutMs: 1000,
    });
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.connect();
    await subscriber.subscribe(sessionsKeys.revocationChannel(system.keyPrefix));
    try {
      const user = await registerAndLogin(system.gatewayUrl);
      // Warm both services' "session is active" cache.
      expect(await gatewayStatus(user.accessToken)).toBe(200);
      expect(await profileStatus(user.accessToken)).toBe(200);

      const loggedOut = Date.now();
      expect((await api().post('/api/auth/logout').set(bearer(user.accessToken))).status).toBe(204);

      expect(await refusedEverywhere(user.accessToken)).toBe(true);
      console.log(
        `revocation on the cluster: refused by the gateway and profile-service ${Date.now() - loggedOut} ms after logout was sent (bound 1000 ms)`,
      );
      expect(await eventually(() => Promise.resolve(messages.includes(`s:${sessionIdOf(user.accessToken)}`)))).toBe(true);
      expect((await refresh(user.refreshToken)).status).toBe(401);
    } finally {
      subscriber.disconnect();
    }
  });
});
