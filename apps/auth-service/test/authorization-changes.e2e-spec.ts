import { Client } from 'pg';
import request from 'supertest';

import { REDIS_CLIENT, type RedisClient } from '@nest-hardening/redis';
import { SecurityEvents } from '@nest-hardening/security-events';
import { SessionFields, sessionsKeys, SessionsService, StaleAuthorizationError, type AuthorizationChange } from '@nest-hardening/sessions';

import {
  bearer,
  eventually,
  login,
  registerAndLogin,
  sessionIdOf,
  sleep,
  startRedisServer,
  startTestSystem,
  uniqueEmail,
  type TestRedisServer,
  type TestSystem,
  type TestUser,
} from '../../../test/support';
import { UsersRepository } from '../src/accounts/users.repository';
import { AuditTrail } from '../src/audit/audit-trail';
import { AuthService } from '../src/auth/auth.service';

/**
 * Penetration-test findings 1 and 3: once a password change, a role change, an account disable or
 * an admin's "end every session" has answered, nothing issued before it is usable anywhere, and
 * no login that checked the old credentials can add a session after it.
 */
describe('authorization changes end every older session, including logins in flight', () => {
  let system: TestSystem;
  const admin = { email: 'authz-admin@example.com', password: 'violet tractor lemonade 42' };
  let adminToken: string;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'authz',
      gatewayEnv: {
        TRUSTED_PROXIES: 'loopback',
        RATE_LIMIT_AUTH_LIMIT: '10000',
        RATE_LIMIT_GENERAL_LIMIT: '100000',
        RATE_LIMIT_REFRESH_LIMIT: '10000',
      },
      authEnv: { BOOTSTRAP_ADMIN_EMAIL: admin.email, BOOTSTRAP_ADMIN_PASSWORD: admin.password, RATE_LIMIT_ADMIN_LIMIT: '10000' },
    });
    adminToken = (await login(system.gatewayUrl, admin.email, admin.password)).accessToken;
  });

  afterAll(() => system?.close());

  const api = () => request(system.gatewayUrl);
  const refresh = (refreshToken: string, forwardedFor?: string) => {
    const req = api().post('/api/auth/refresh').set('user-agent', 'jest-e2e/1.0');
    return (forwardedFor ? req.set('x-forwarded-for', forwardedFor) : req).send({ refreshToken });
  };
  /** Refused at the gateway and by profile-service directly, within the 1 s revocation promise. */
  const refusedEverywhere = (token: string) =>
    eventually(async () => {
      const [viaGateway, direct] = await Promise.all([
        api().get('/api/me').set(bearer(token)),
        request(system.profileUrl).get('/profile').set(bearer(token)),
      ]);
      return viaGateway.status === 401 && direct.status === 401;
    });
  const usable = async (tokens: { accessToken: string; refreshToken: string }, ip: string) => {
    const me = await api().get('/api/me').set(bearer(tokens.accessToken));
    const refreshed = await refresh(tokens.refreshToken, ip);
    return me.status === 200 || refreshed.status === 200;
  };

  describe('finding 1: a password change races logins with the old password', () => {
    it('leaves no usable session from a login with the old password, however the requests interleave', async () => {
      const owner = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('race'), forwardedFor: '10.91.0.1' });
      const newPassword = 'a brand new passphrase 7';
      const ips = Array.from({ length: 40 }, (_, i) => `10.91.1.${i + 1}`);

      // 40 logins with the old password from 40 addresses, 10 ms apart; the owner changes the
      // password as soon as the first of them has answered, while the others are in flight.
      let firstAnswered!: () => void;
      const firstAnswer = new Promise<void>((resolve) => (firstAnswered = resolve));
      const logins = ips.map(async (ip, i) => {
        await sleep(i * 10);
        const res = await api()
          .post('/api/auth/login')
          .set('x-forwarded-for', ip)
          .set('user-agent', 'jest-e2e/1.0')
          .send({ email: owner.email, password: owner.password });
        if (res.status === 200) firstAnswered();
        return { ip, status: res.status, body: res.body as { accessToken?: string; refreshToken?: string } };
      });
      await firstAnswer;
      const change = await api()
        .post('/api/auth/password')
        .set(bearer(owner.accessToken))
        .set('x-forwarded-for', '10.91.0.1')
        .send({ currentPassword: owner.password, newPassword });
      expect(change.status).toBe(204);
      const results = await Promise.all(logins);

      const succeeded = results.filter((r) => r.status === 200);
      expect(succeeded.length).toBeGreaterThan(0);
      expect(results.every((r) => r.status === 200 || r.status === 401)).toBe(true);

      await sleep(1100); // the revocation-propagation bound
      for (const r of succeeded) {
        const tokens = { accessToken: r.body.accessToken!, refreshToken: r.body.refreshToken! };
        expect(await usable(tokens, r.ip)).toBe(false);
        expect((await request(system.profileUrl).get('/profile').set(bearer(tokens.accessToken))).status).toBe(401);
      }
      // The session that changed the password stays, and the new password works.
      expect((await api().get('/api/me').set(bearer(owner.accessToken))).status).toBe(200);
      await login(system.gatewayUrl, owner.email, newPassword, { forwardedFor: '10.91.0.1' });
      const sessions = await api().get('/api/me/sessions').set(bearer(owner.accessToken));
      expect(sessions.body).toHaveLength(2);
    });

    it('applies while logins that checked the old password keep adding sessions, and none of those sessions lasts', async () => {
      const owner = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('landing'), forwardedFor: '10.94.0.1' });
      const checkedBefore = (await system.auth.get(UsersRepository).findByEmail(owner.email))!;
      const auth = system.auth.get(AuthService);
      const redis = system.auth.get<symbol, RedisClient>(REDIS_CLIENT) as unknown as {
        zrange(key: string, start: number, stop: number): Promise<string[]>;
      };
      const readIndex = redis.zrange.bind(redis);
      // The worst interleaving: each time the change has read the owner's session index, a login that
      // checked the old password creates its session before the change's script runs.
      const landed: { accessToken: string; refreshToken: string }[] = [];
      const spy = jest.spyOn(redis, 'zrange').mockImplementation(async (key, start, stop) => {
        const sids = await readIndex(key, start, stop);
        if (key === sessionsKeys.index(owner.id) && landed.length < 5) {
          await auth.startSession(checkedBefore, { ip: '10.94.1.1', userAgent: 'jest-e2e/1.0' }).then(
            (pair) => landed.push(pair),
            (error: unknown) => {
              if (!(error instanceof StaleAuthorizationError)) throw error;
            },
          );
        }
        return sids;
      });
      let change: request.Response;
      try {
        change = await api()
          .post('/api/auth/password')
          .set(bearer(owner.accessToken))
          .set('x-forwarded-for', '10.94.0.1')
          .send({ currentPassword: owner.password, newPassword: 'a passphrase set under logins 31' });
      } finally {
        spy.mockRestore();
      }
      expect(change.status).toBe(204);
      expect(landed.length).toBeGreaterThan(0);
      for (const tokens of landed) {
        expect(await refusedEverywhere(tokens.accessToken)).toBe(true);
        expect((await refresh(tokens.refreshToken, '10.94.1.1')).status).toBe(401);
      }
      expect((await api().get('/api/me').set(bearer(owner.accessToken))).status).toBe(200);
    });

    it('of two password changes that checked the same password, one applies and the other is refused', async () => {
      const owner = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('twochanges'), forwardedFor: '10.93.0.1' });
      const other = await login(system.gatewayUrl, owner.email, owner.password, { forwardedFor: '10.93.0.2' });
      const change = (token: string, newPassword: string) =>
        api().post('/api/auth/password').set(bearer(token)).send({ currentPassword: owner.password, newPassword });
      const [first, second] = await Promise.all([
        change(owner.accessToken, 'the first new passphrase 4411'),
        change(other.accessToken, 'the second new passphrase 9922'),
      ]);
      expect([first.status, second.status].sort()).toEqual([204, 401]);
      // The password is the one the answered change set, and only its session is left.
      const [applied, refused] =
        first.status === 204
          ? ['the first new passphrase 4411', 'the second new passphrase 9922']
          : ['the second new passphrase 9922', 'the first new passphrase 4411'];
      const loginWith = (password: string) =>
        api().post('/api/auth/login').set('x-forwarded-for', '10.93.0.3').send({ email: owner.email, password });
      expect((await loginWith(refused)).status).toBe(401);
      expect((await loginWith(applied)).status).toBe(200);
      const survivor = first.status === 204 ? owner : other;
      const ended = first.status === 204 ? other : owner;
      expect((await api().get('/api/me').set(bearer(survivor.accessToken))).status).toBe(200);
      expect(await refusedEverywhere(ended.accessToken)).toBe(true);
    });

    it('an admin ending every session ends every session answered before it', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('adminend') });
      let firstAnswered!: () => void;
      const firstAnswer = new Promise<void>((resolve) => (firstAnswered = resolve));
      const logins = Array.from({ length: 20 }, async (_, i) => {
        await sleep(i * 10);
        const ip = `10.92.1.${i + 1}`;
        const res = await api().post('/api/auth/login').set('x-forwarded-for', ip).send({ email: user.email, password: user.password });
        if (res.status === 200) firstAnswered();
        return { ip, status: res.status, answeredAt: Date.now(), body: res.body as { accessToken?: string; refreshToken?: string } };
      });
      await firstAnswer;
      expect((await api().delete(`/api/accounts/${user.id}/sessions`).set(bearer(adminToken))).status).toBe(204);
      const revokedAt = Date.now();
      const results = await Promise.all(logins);
      // A login answered while the change ran may have read the account after it committed: that
      // login comes after the change (the password still works), and its session, created under the
      // version the change published, stays. Every other session answered before the change ends.
      const published = (await system.auth.get(UsersRepository).findById(user.id))!.auth_version;
      const redis = system.auth.get<symbol, RedisClient>(REDIS_CLIENT);
      const createdUnder = (accessToken: string) =>
        redis.hget(sessionsKeys.session(user.id, sessionIdOf(accessToken)), SessionFields.authVersion);
      const before: typeof results = [];
      for (const r of results)
        if (r.status === 200 && r.answeredAt < revokedAt && (await createdUnder(r.body.accessToken!)) !== String(published)) before.push(r);
      expect(before.length).toBeGreaterThan(0);
      await sleep(1100);
      for (const r of before)
        expect(await usable({ accessToken: r.body.accessToken!, refreshToken: r.body.refreshToken! }, r.ip)).toBe(false);
      expect(await refusedEverywhere(user.accessToken)).toBe(true);
    });
  });

  describe('finding 3: role and status changes take effect everywhere within 1 s', () => {
    const promote = (id: string, role: 'user' | 'admin', token = adminToken) =>
      api().patch(`/api/accounts/${id}/role`).set(bearer(token)).send({ role });
    const setStatus = (id: string, status: 'active' | 'disabled', token = adminToken) =>
      api().patch(`/api/accounts/${id}/status`).set(bearer(token)).send({ status });
    const adminRoute = (token: string, id: string) => api().get(`/api/accounts/${id}/lockout`).set(bearer(token));

    it('a demoted admin loses admin rights at once: the old token is refused and refresh never mints the old role', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('demoted') });
      const promoted = await promote(user.id, 'admin');
      expect(promoted.status).toBe(200);
      expect(promoted.body).toMatchObject({ id: user.id, role: 'admin', status: 'active' });
      const asAdmin = await login(system.gatewayUrl, user.email, user.password);
      expect((await adminRoute(asAdmin.accessToken, user.id)).status).toBe(200);

      expect((await promote(user.id, 'user')).status).toBe(200);
      expect(await refusedEverywhere(asAdmin.accessToken)).toBe(true);
      expect((await adminRoute(asAdmin.accessToken, user.id)).status).toBe(401);
      expect((await refresh(asAdmin.refreshToken)).status).toBe(401);

      // A new login gets the new role, and the admin routes refuse it.
      const again = await login(system.gatewayUrl, user.email, user.password);
      expect((await adminRoute(again.accessToken, user.id)).status).toBe(403);
      expect(roleOf(again.accessToken)).toBe('user');
    });

    /** Holds the first authorization change for `reason` between its database commit and its publication to Redis. */
    function holdPublication(reason: AuthorizationChange['reason']) {
      const sessions = system.auth.get(SessionsService);
      const publish = sessions.endForAuthorizationChange.bind(sessions);
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let arrive!: () => void;
      const reached = new Promise<void>((resolve) => (arrive = resolve));
      let held = false;
      const spy = jest.spyOn(sessions, 'endForAuthorizationChange').mockImplementation(async (userId, version, change) => {
        if (!held && change.reason === reason) {
          held = true;
          arrive();
          await gate;
        }
        return publish(userId, version, change);
      });
      return { reached, open, restore: () => spy.mockRestore() };
    }
    const changePassword = (tokens: { accessToken: string }, currentPassword: string) =>
      api()
        .post('/api/auth/password')
        .set(bearer(tokens.accessToken))
        .set('user-agent', 'jest-e2e/1.0')
        .send({ currentPassword, newPassword: 'a completely new passphrase 77' });

    it('a password change made while a demotion is being published does not keep the admin session', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('demoted-racing') });
      expect((await promote(user.id, 'admin')).status).toBe(200);
      const asAdmin = await login(system.gatewayUrl, user.email, user.password);
      const hold = holdPublication('role_change');
      try {
        const demoting = promote(user.id, 'user').then((res) => res);
        await hold.reached; // committed in Postgres, not yet in Redis (a slow Redis, or the retry after it failed)
        await changePassword(asAdmin, user.password);
        hold.open();
        expect((await demoting).body).toMatchObject({ role: 'user' });
      } finally {
        hold.restore();
      }
      // The session was created under the admin role: it ends, and refresh never mints 'admin'.
      expect((await refresh(asAdmin.refreshToken)).status).toBe(401);
      expect(await refusedEverywhere(asAdmin.accessToken)).toBe(true);
    });

    it('a password change made while a disabling is being published is refused, and the session ends', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('disabled-racing') });
      const hold = holdPublication('status_change');
      try {
        const disabling = setStatus(user.id, 'disabled').then((res) => res);
        await hold.reached;
        expect((await changePassword(user, user.password)).status).toBe(403);
        hold.open();
        expect((await disabling).body).toMatchObject({ status: 'disabled' });
      } finally {
        hold.restore();
      }
      expect((await refresh(user.refreshToken)).status).toBe(401);
      expect(await refusedEverywhere(user.accessToken)).toBe(true);
    });

    it('the same holds for an account id written in capitals, as some tools copy UUIDs', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('capitals') });
      expect((await promote(user.id, 'admin')).status).toBe(200);
      const asAdmin = await login(system.gatewayUrl, user.email, user.password);
      const demoted = await promote(user.id.toUpperCase(), 'user');
      expect(demoted.status).toBe(200);
      expect(demoted.body).toMatchObject({ id: user.id, role: 'user' });
      expect(await refusedEverywhere(asAdmin.accessToken)).toBe(true);
      expect((await refresh(asAdmin.refreshToken)).status).toBe(401);

      const again = await login(system.gatewayUrl, user.email, user.password);
      expect((await api().delete(`/api/accounts/${user.id.toUpperCase()}/sessions`).set(bearer(adminToken))).status).toBe(204);
      expect(await refusedEverywhere(again.accessToken)).toBe(true);

      const me = (await api().get('/api/me').set(bearer(adminToken))).body as { id: string };
      expect((await setStatus(me.id.toUpperCase(), 'disabled')).status).toBe(409);
    });

    it('a disabled account cannot log in or refresh, and its tokens are refused everywhere', async () => {
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('disabled') });
      const res = await setStatus(user.id, 'disabled');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'disabled' });
      expect(await refusedEverywhere(user.accessToken)).toBe(true);
      expect((await refresh(user.refreshToken)).status).toBe(401);
      const denied = await api().post('/api/auth/login').send({ email: user.email, password: user.password });
      expect(denied.status).toBe(403);
      // A wrong password still gets the ordinary answer: the state is told only to the owner's password.
      expect((await api().post('/api/auth/login').send({ email: user.email, password: 'not the password at all' })).status).toBe(401);

      expect((await setStatus(user.id, 'active')).status).toBe(200);
      await login(system.gatewayUrl, user.email, user.password);
    });

    it('an admin cannot demote or disable themself, and two admins demoting each other leave one admin', async () => {
      const me = (await api().get('/api/me').set(bearer(adminToken))).body as { id: string };
      expect((await promote(me.id, 'user')).status).toBe(409);
      expect((await setStatus(me.id, 'disabled')).status).toBe(409);
      expect((await promote('00000000-0000-4000-8000-000000000000', 'user')).status).toBe(404);
      expect((await api().patch(`/api/accounts/${me.id}/role`).set(bearer(adminToken)).send({ role: 'root' })).status).toBe(400);

      const a = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('admin-a') });
      const b = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('admin-b') });
      await promote(a.id, 'admin');
      await promote(b.id, 'admin');
      const aToken = (await login(system.gatewayUrl, a.email, a.password)).accessToken;
      const bToken = (await login(system.gatewayUrl, b.email, b.password)).accessToken;
      // The bootstrap admin steps back, so a and b are the only active admins.
      const bootstrapId = me.id;
      expect((await promote(bootstrapId, 'user', aToken)).status).toBe(200);

      const [aOnB, bOnA] = await Promise.all([promote(b.id, 'user', aToken), promote(a.id, 'user', bToken)]);
      expect([aOnB.status, bOnA.status].filter((s) => s === 200)).toHaveLength(1);
      for (const other of [aOnB.status, bOnA.status].filter((s) => s !== 200)) expect([401, 403, 409]).toContain(other);
      const survivor = aOnB.status === 200 ? aToken : bToken;
      // Restore the bootstrap admin for the other tests.
      expect((await promote(bootstrapId, 'admin', survivor)).status).toBe(200);
      adminToken = (await login(system.gatewayUrl, admin.email, admin.password)).accessToken;
      const remainingId = aOnB.status === 200 ? a.id : b.id;
      expect((await promote(remainingId, 'user')).status).toBe(200);
    });

    it('two of three admins demoting each other at once leave one of them admin: a demoted admin changes nothing', async () => {
      const a = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('admin3-a') });
      const b = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('admin3-b') });
      await promote(a.id, 'admin');
      await promote(b.id, 'admin');
      const aToken = (await login(system.gatewayUrl, a.email, a.password)).accessToken;
      const bToken = (await login(system.gatewayUrl, b.email, b.password)).accessToken;
      // Both requests are admitted (each admin's session is live) and then wait for the lock that
      // serialises role and status changes, so the second runs after the first has demoted its admin.
      const pg = new Client({ connectionString: system.database.url });
      await pg.connect();
      try {
        await pg.query('SELECT pg_advisory_lock(727002)');
        // supertest sends a request when it is first awaited or `then`ed: both are sent now.
        const [aOnB, bOnA] = [promote(b.id, 'user', aToken), promote(a.id, 'user', bToken)].map((req) => req.then((res) => res));
        const waiting = async () =>
          Number((await pg.query(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rows[0].n) === 2;
        expect(await eventually(waiting, 5000, 10)).toBe(true);
        await pg.query('SELECT pg_advisory_unlock(727002)');
        const statuses = [(await aOnB).status, (await bOnA).status];
        expect(statuses.filter((s) => s === 200)).toHaveLength(1);
        expect(statuses.filter((s) => s !== 200)).toEqual([403]);
      } finally {
        await pg.end();
      }
      const roles = await Promise.all(
        [a, b].map(
          async (u) =>
            ((await api().get(`/api/accounts?email=${u.email}`).set(bearer(adminToken))).body as { items: { role: string }[] }).items[0]
              .role,
        ),
      );
      expect(roles.sort()).toEqual(['admin', 'user']);
      for (const u of [a, b]) expect((await promote(u.id, 'user')).status).toBe(200);
    });

    it('records every change with the admin who made it', async () => {
      const emit = jest.spyOn(system.auth.get(SecurityEvents), 'emit');
      const user: TestUser = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('audited') });
      await setStatus(user.id, 'disabled');
      const me = (await api().get('/api/me').set(bearer(adminToken))).body as { id: string };
      expect(emit).toHaveBeenCalledWith(
        expect.objectContaining({
          type: 'account_status_changed',
          details: expect.objectContaining({ accountId: user.id, adminId: me.id, status: 'disabled' }),
        }),
      );
      expect(emit).toHaveBeenCalledWith(
        expect.objectContaining({
          type: 'sessions_revoked',
          details: expect.objectContaining({ userId: user.id, reason: 'status_change', adminId: me.id }),
        }),
      );
      emit.mockRestore();
    });
  });
});

function roleOf(accessToken: string): string {
  return (JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()) as { role: string }).role;
}

describe('an authorization change that Redis fails to take after the database has it', () => {
  let redis: TestRedisServer;
  let system: TestSystem;
  let pg: Client;

  beforeAll(async () => {
    redis = await startRedisServer();
    system = await startTestSystem({ label: 'authzhalf', env: { REDIS_URL: redis.url }, authEnv: { RATE_LIMIT_AUTH_LIMIT: '10000' } });
    pg = new Client({ connectionString: system.database.url });
    await pg.connect();
  });

  afterAll(async () => {
    redis?.resume();
    await pg?.end();
    await system?.close();
    await redis?.stop();
  });

  /**
   * A password change whose UPDATE is held for a second while Redis stops, so that the change commits
   * and publishing it fails; its answer.
   */
  async function changePasswordWhileRedisStops(owner: TestUser, newPassword: string): Promise<request.Response> {
    await pg.query(
      `CREATE OR REPLACE FUNCTION slow_password_update() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    await pg.query(
      `CREATE TRIGGER slow_password_update BEFORE UPDATE OF password_hash ON users FOR EACH ROW EXECUTE FUNCTION slow_password_update()`,
    );
    try {
      const changing = request(system.authUrl)
        .post('/auth/password')
        .set(bearer(owner.accessToken))
        .send({ currentPassword: owner.password, newPassword })
        .then((res) => res);
      // pg_stat_activity lists every database of the server: test files running beside this one update their own users.
      const updating = async () =>
        (
          await pg.query(
            `SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query ILIKE 'update "users"%' AND datname = current_database()`,
          )
        ).rows.length > 0;
      expect(await eventually(updating, 5000, 10)).toBe(true);
      redis.pause();
      try {
        return await changing;
      } finally {
        redis.resume();
      }
    } finally {
      await pg.query('DROP TRIGGER slow_password_update ON users');
    }
  }

  it('answers 503, and the other sessions end once Redis is back', async () => {
    const owner = await registerAndLogin(system.authUrl, { pathPrefix: '' });
    const other = await login(system.authUrl, owner.email, owner.password, { pathPrefix: '' });
    const newPassword = 'a passphrase set while redis stopped 5';
    const answer = await changePasswordWhileRedisStops(owner, newPassword);
    expect(answer.status).toBe(503);

    // The password is changed; the change reaches Redis after all, and the other session ends.
    const me = () => request(system.authUrl).get('/me').set(bearer(other.accessToken));
    expect(await eventually(async () => (await me()).status === 401, 15_000, 200)).toBe(true);
    const refreshed = await request(system.authUrl)
      .post('/auth/refresh')
      .set('user-agent', 'jest-e2e/1.0')
      .send({ refreshToken: other.refreshToken });
    expect(refreshed.status).toBe(401);
    expect((await login(system.authUrl, owner.email, newPassword, { pathPrefix: '' })).accessToken).toEqual(expect.any(String));
  });

  it('records the password change in the audit trail, though its answer was 503', async () => {
    const owner = await registerAndLogin(system.authUrl, { pathPrefix: '' });
    const newPassword = 'another passphrase set while redis stopped 6';
    expect((await changePasswordWhileRedisStops(owner, newPassword)).status).toBe(503);
    expect((await login(system.authUrl, owner.email, newPassword, { pathPrefix: '' })).accessToken).toEqual(expect.any(String));

    // The password is changed: the trail must say so, as for any change an account had (who, when, from where).
    await system.auth.get(AuditTrail).flush();
    const { rows } = await pg.query<{ network: string | null }>(
      "SELECT network FROM security_events WHERE type = 'password_changed' AND account_id = $1",
      [owner.id],
    );
    expect(rows).toEqual([{ network: expect.any(String) }]);
  });
});
