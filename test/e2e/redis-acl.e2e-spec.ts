import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Redis } from 'ioredis';
import request from 'supertest';

import { ACCOUNT_LOCKED_MESSAGE } from '@nest-hardening/lockout';
import { RedisScript } from '@nest-hardening/redis';
import { SessionStore } from '@nest-hardening/sessions';

import {
  bearer,
  documentedRedisAcl,
  eventually,
  LOCKOUT_TEST_ENV,
  login,
  probeClient,
  redisAclFor,
  registerAndLogin,
  sessionIdOf,
  sleep,
  startRedisCluster,
  startRedisServer,
  startTestSystem,
  TEST_PASSWORD,
  uniqueEmail,
  type TestRedisCluster,
  type TestRedisServer,
  type TestSystem,
  type TestTokens,
} from '../support';

/**
 * The three apps reach Redis as an ACL user with exactly the rules docs/production.md gives ("Reaching
 * Redis"): no command, key or channel beyond them. Every capability works, and Redis refused nothing
 * (`ACL LOG` stays empty: ioredis swallows some refusals, e.g. of CLIENT SETNAME, that a test of the
 * answers alone would miss). The `default` user has a password the apps do not know, so no
 * connection can fall back to it.
 */

const KEY_PREFIX = 'acl:';
const APP_PASSWORD = 'the app user password';
const ADMIN_PASSWORD = 'the default user password';
const ADMIN = { email: 'acl-admin@example.com', password: 'admin password for the acl test' };
const WRONG = 'not the right password';
/** What registerAndLogin sends: a refresh must come from the session's device. */
const UA = { 'user-agent': 'jest-e2e/1.0' };
const secret = (name: string) => `${name} for the redis-acl e2e test`;

const acl = documentedRedisAcl();

/**
 * Scripts the single-Redis run cannot reach: the two-step login reservation is a cluster's (the
 * account's and the address's keys in different slots); the apps never read one address's lock
 * state nor use the stock ThrottlerStorage (library API); a known address is forgotten only by a
 * login that a password change made stale while it was being verified, a race this suite does not
 * stage (credential-guessing.e2e-spec.ts does). Their commands are granted all the same.
 */
const NOT_RUN_ON_A_SINGLE_REDIS = [
  'lockout-reserve-account',
  'lockout-reserve-address',
  'lockout-address-state',
  'lockout-forget-known',
  'throttler-storage-increment',
];

/** Runs `use` on a connection to 127.0.0.1:port as the `default` user. */
async function asAdmin<T>(port: number, use: (probe: Redis) => Promise<T>): Promise<T> {
  const probe = probeClient(port, { password: ADMIN_PASSWORD });
  try {
    await probe.connect();
    return await use(probe);
  } finally {
    probe.disconnect();
  }
}

/** Every {@link RedisScript} in a `scripts/` folder of a library. */
function libraryScripts(): RedisScript[] {
  const libs = join(__dirname, '../../libs');
  const scripts: RedisScript[] = [];
  for (const lib of readdirSync(libs)) {
    const dir = join(libs, lib, 'src/scripts');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.script.ts'))) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exported = Object.values(require(join(dir, file)) as Record<string, unknown>);
      scripts.push(...exported.filter((value): value is RedisScript => value instanceof RedisScript));
    }
  }
  return scripts;
}

/**
 * Creates the app user on one node. `adminPassword` is the node's `default` password; a node
 * without one yet (the single Redis) gets it here, so no client can connect without a user.
 */
async function createAppUser(port: number, rules: string[], adminPassword?: string): Promise<void> {
  const probe = probeClient(port, { password: adminPassword });
  try {
    await probe.connect();
    await probe.call('ACL', 'SETUSER', 'app', ...redisAclFor(rules, KEY_PREFIX, APP_PASSWORD));
    if (adminPassword === undefined) await probe.config('SET', 'requirepass', ADMIN_PASSWORD);
    await probe.call('ACL', 'LOG', 'RESET');
  } finally {
    probe.disconnect();
  }
}

/** What Redis refused, and the users of the connections other than this probe's. */
async function aclState(port: number): Promise<{ refused: string[]; users: string[] }> {
  return asAdmin(port, async (probe) => {
    const log = (await probe.call('ACL', 'LOG')) as unknown[][];
    const refused = log.map((entry) => {
      const fields = new Map<string, unknown>();
      for (let i = 0; i < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
      return `${String(fields.get('reason'))} ${String(fields.get('object'))} by ${String(fields.get('username'))}`;
    });
    const own = String(await probe.client('ID'));
    const users = String(await probe.client('LIST'))
      .trim()
      .split('\n')
      // Neither this probe nor the connection a test's MIGRATE opens from another node (as `default`).
      .filter((line) => !line.startsWith(`id=${own} `) && !/ cmd=restore-asking /.test(line))
      .map((line) => /\buser=(\S+)/.exec(line)?.[1] ?? '?');
    return { refused, users: [...new Set(users)] };
  });
}

function systemEnv(redis: Record<string, string>) {
  return {
    env: { ...redis, REDIS_KEY_PREFIX: KEY_PREFIX },
    gatewayEnv: {
      // The test is the load balancer: X-Forwarded-For chooses each client's address.
      TRUSTED_PROXIES: 'loopback',
      RATE_LIMIT_AUTH_LIMIT: '1000',
      RATE_LIMIT_GENERAL_LIMIT: '10000',
      RATE_LIMIT_REFRESH_LIMIT: '5',
    },
    authEnv: {
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      REFRESH_REUSE_GRACE_MS: '500',
      LOCKOUT_SECRET: secret('lockout v1'),
      ...LOCKOUT_TEST_ENV,
    },
  };
}

/** The requests of the flows below, through the gateway of `system()`. */
function client(system: () => TestSystem) {
  const api = () => request(system().gatewayUrl);
  const from = (ip: string) => ({ ...UA, 'x-forwarded-for': ip });
  const attempt = (email: string, password: string, ip: string) => api().post('/api/auth/login').set(from(ip)).send({ email, password });
  const refresh = (refreshToken: string, ip?: string) =>
    api()
      .post('/api/auth/refresh')
      .set(ip ? from(ip) : UA)
      .send({ refreshToken });
  const gatewayStatus = async (token: string) => (await api().get('/api/me').set(bearer(token))).status;
  const profileStatus = async (token: string) => (await request(system().profileUrl).get('/profile').set(bearer(token))).status;
  const works = async (token: string) => (await gatewayStatus(token)) === 200 && (await profileStatus(token)) === 200;
  /** Refused by the gateway and by profile-service directly, within the 1 s revocation promise. */
  const refusedEverywhere = (token: string) =>
    eventually(async () => (await gatewayStatus(token)) === 401 && (await profileStatus(token)) === 401, 1000, 5);
  const register = async (label: string) => {
    const email = uniqueEmail(label);
    const res = await api().post('/api/auth/register').send({ email, password: TEST_PASSWORD });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, email };
  };
  const adminToken = async () => (await login(system().gatewayUrl, ADMIN.email, ADMIN.password)).accessToken;
  return { api, attempt, refresh, gatewayStatus, profileStatus, works, refusedEverywhere, register, adminToken };
}

/** The flows both topologies run: each touches other scripts, keys and the revocation channel. */
function keyFlows(system: () => TestSystem) {
  const { api, attempt, refresh, works, refusedEverywhere, register, adminToken } = client(system);

  it('answers /health/ready on every app', async () => {
    for (const url of [system().gatewayUrl, system().authUrl, system().profileUrl]) {
      expect((await request(url).get('/health/ready')).status).toBe(200);
    }
  });

  it('registers and logs in; the token works at the gateway and at profile-service', async () => {
    const user = await registerAndLogin(system().gatewayUrl);
    expect(await works(user.accessToken)).toBe(true);
    expect((await api().patch('/api/profile').set(bearer(user.accessToken)).send({ displayName: 'Ada' })).status).toBe(200);
  });

  it('locks a pair after failed logins; an admin sees the lock and lifts it', async () => {
    const user = await register('lock');
    const ip = '10.99.1.1';
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, WRONG, ip)).status).toBe(401);
    const locked = await attempt(user.email, TEST_PASSWORD, ip);
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ message: ACCOUNT_LOCKED_MESSAGE });

    const token = await adminToken();
    const state = await api().get(`/api/accounts/${user.id}/lockout`).set(bearer(token));
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ locked: true });
    expect((await api().patch(`/api/accounts/${user.id}/unlock`).set(bearer(token))).status).toBe(200);
    expect((await attempt(user.email, TEST_PASSWORD, ip)).status).toBe(200);
  });

  it('rotates a refresh token; reuse of the rotated one ends the session everywhere', async () => {
    const user = await registerAndLogin(system().gatewayUrl);
    const rotated = await refresh(user.refreshToken);
    expect(rotated.status).toBe(200);
    const successor = rotated.body as TestTokens;
    expect(await works(successor.accessToken)).toBe(true);

    await sleep(800);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect(await refusedEverywhere(successor.accessToken)).toBe(true);
  });

  it('logout: the revocation reaches the gateway and profile-service', async () => {
    const user = await registerAndLogin(system().gatewayUrl);
    // Both services cache "session is active": only the published revocation drops it.
    expect(await works(user.accessToken)).toBe(true);
    expect((await api().post('/api/auth/logout').set(bearer(user.accessToken))).status).toBe(204);
    expect(await refusedEverywhere(user.accessToken)).toBe(true);
    expect((await refresh(user.refreshToken)).status).toBe(401);
  });

  it('answers 429 with Retry-After once a budget is spent', async () => {
    const ip = '10.99.2.1';
    for (let i = 0; i < 5; i++) expect((await refresh('not a refresh token', ip)).status).toBe(401);
    const limited = await refresh('not a refresh token', ip);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
}

describe('the system as a least-privilege Redis ACL user (docs/production.md)', () => {
  describe('on a single Redis', () => {
    let server: TestRedisServer;
    let system: TestSystem;
    const { api, attempt, works, refusedEverywhere, register, adminToken } = client(() => system);

    beforeAll(async () => {
      server = await startRedisServer();
      await createAppUser(server.port, acl.rules);
      system = await startTestSystem({
        label: 'acl',
        ...systemEnv({ REDIS_URL: `redis://app:${encodeURIComponent(APP_PASSWORD)}@127.0.0.1:${server.port}` }),
      });
    }, 60_000);

    afterAll(async () => {
      await system?.close();
      await server?.stop();
    });

    keyFlows(() => system);

    it('lists sessions, ends one, and ends all the others', async () => {
      const user = await registerAndLogin(system.gatewayUrl);
      const second = await login(system.gatewayUrl, user.email, user.password);
      const third = await login(system.gatewayUrl, user.email, user.password);
      const list = await api().get('/api/me/sessions').set(bearer(third.accessToken));
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(3);

      expect(
        (
          await api()
            .delete(`/api/me/sessions/${sessionIdOf(second.accessToken)}`)
            .set(bearer(third.accessToken))
        ).status,
      ).toBe(204);
      expect(await refusedEverywhere(second.accessToken)).toBe(true);
      expect((await api().delete('/api/me/sessions').set(bearer(third.accessToken))).status).toBe(204);
      expect(await refusedEverywhere(user.accessToken)).toBe(true);
      expect(await works(third.accessToken)).toBe(true);
    });

    it('changes a password (a wrong current one counted first); the other sessions end', async () => {
      const user = await registerAndLogin(system.gatewayUrl);
      const other = await login(system.gatewayUrl, user.email, user.password);
      const change = (currentPassword: string) =>
        api().post('/api/auth/password').set(bearer(user.accessToken)).send({ currentPassword, newPassword: 'a brand new long password' });
      expect((await change(WRONG)).status).toBe(401);
      expect((await change(user.password)).status).toBe(204);
      expect(await refusedEverywhere(other.accessToken)).toBe(true);
      expect(await works(user.accessToken)).toBe(true);
    });

    it("lets an admin end an account's sessions, change its role and disable it", async () => {
      const token = await adminToken();
      const user = await registerAndLogin(system.gatewayUrl);
      expect((await api().delete(`/api/accounts/${user.id}/sessions`).set(bearer(token))).status).toBe(204);
      expect(await refusedEverywhere(user.accessToken)).toBe(true);

      const again = await login(system.gatewayUrl, user.email, user.password);
      expect((await api().patch(`/api/accounts/${user.id}/role`).set(bearer(token)).send({ role: 'admin' })).status).toBe(200);
      expect(await refusedEverywhere(again.accessToken)).toBe(true);
      const third = await login(system.gatewayUrl, user.email, user.password);
      expect((await api().patch(`/api/accounts/${user.id}/status`).set(bearer(token)).send({ status: 'disabled' })).status).toBe(200);
      expect(await refusedEverywhere(third.accessToken)).toBe(true);
    });

    it('moves malformed credential requests to their own budget (the shared registration budget is refunded)', async () => {
      for (const path of ['/api/auth/login', '/api/auth/register']) {
        expect(
          (
            await api()
              .post(path)
              .set({ ...UA, 'x-forwarded-for': '10.99.3.1' })
              .send({ email: 'no password' })
          ).status,
        ).toBe(400);
      }
    });

    it('keeps counting failures across a LOCKOUT_SECRET rotation', async () => {
      const user = await register('rotation');
      const ip = '10.99.4.1';
      for (let i = 0; i < 3; i++) expect((await attempt(user.email, WRONG, ip)).status).toBe(401);
      await system.restartAuthService(0, { LOCKOUT_SECRET: secret('lockout v2'), LOCKOUT_SECRET_PREVIOUS: secret('lockout v1') });
      for (let i = 0; i < 2; i++) expect((await attempt(user.email, WRONG, ip)).status).toBe(401);
      expect((await attempt(user.email, TEST_PASSWORD, ip)).status).toBe(429);
    });

    it('ran the Lua scripts of the libraries under the user', async () => {
      const scripts = libraryScripts();
      const ran = (await asAdmin(server.port, (probe) => probe.script('EXISTS', ...scripts.map((s) => s.sha)))) as number[];
      expect(
        scripts
          .filter((_, i) => ran[i] !== 1)
          .map((s) => s.name)
          .sort(),
      ).toEqual([...NOT_RUN_ON_A_SINGLE_REDIS].sort());
    });

    it('was refused nothing by Redis, and every app connection is the app user', async () => {
      expect(await aclState(server.port)).toEqual({ refused: [], users: ['app'] });
    });
  });

  describe('on a 3-master Redis Cluster (the rules on every node)', () => {
    let cluster: TestRedisCluster;
    let system: TestSystem;
    const { works } = client(() => system);

    beforeAll(async () => {
      cluster = await startRedisCluster({ password: ADMIN_PASSWORD });
      for (const node of cluster.nodes) {
        await createAppUser(Number(node.split(':')[1]), [...acl.rules, ...acl.clusterRules], ADMIN_PASSWORD);
      }
      const seeds = cluster.nodes.map((node) => `redis://app:${encodeURIComponent(APP_PASSWORD)}@${node}`).join(',');
      system = await startTestSystem({ label: 'acl-cluster', ...systemEnv({ REDIS_CLUSTER_NODES: seeds }) });
    }, 60_000);

    afterAll(async () => {
      await system?.close();
      await cluster?.stop();
    });

    keyFlows(() => system);

    it("follows a user's slot while it moves to another node (ASKING), and after", async () => {
      const user = await registerAndLogin(system.gatewayUrl);
      const tag = `${KEY_PREFIX}{u:${user.id}}`;
      const source = await cluster.masterOf(tag);
      const keys = await asAdmin(Number(source.split(':')[1]), (probe) => probe.keys(`${tag}*`));
      const move = await cluster.startSlotMove(tag, keys);
      // Every key has moved but the slot is still the source's: each call is redirected with ASK and
      // sent again after ASKING. (A request would get 503: its token check also names a key that does
      // not exist, which a node importing the slot answers TRYAGAIN.) auth-service's own store and client.
      const sessions = system.auth.get(SessionStore, { strict: false });
      expect((await sessions.list(user.id)).map((s) => s.id)).toEqual([sessionIdOf(user.accessToken)]);
      await move.finish();
      expect(await works(user.accessToken)).toBe(true);
    });

    it('was refused nothing by any node, and every app connection is the app user', async () => {
      for (const node of cluster.nodes) {
        expect({ node, ...(await aclState(Number(node.split(':')[1]))) }).toEqual({ node, refused: [], users: ['app'] });
      }
    });
  });
});
