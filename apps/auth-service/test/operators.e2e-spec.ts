import { execFileSync } from 'node:child_process';

import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import request from 'supertest';

import { DependencyUnavailableError } from '@nest-hardening/errors';
import { SessionStore } from '@nest-hardening/sessions';

import {
  bearer,
  eventually,
  login,
  registerAndLogin,
  settleWithin,
  sleep,
  startTestSystem,
  uniqueEmail,
  type TestSystem,
} from '../../../test/support';
import { UsersRepository } from '../src/accounts/users.repository';
import { AuditTrail } from '../src/audit/audit-trail';
import { SecurityEventsRepository } from '../src/audit/security-events.repository';

/**
 * What an operator and a user can do without SQL, through the gateway with a bootstrap admin:
 * find accounts, see and lift locks with the networks they came from, read an account's security
 * events and one's own activity; the audit trail survives a Postgres outage.
 */
describe('operators and users act without SQL', () => {
  let system: TestSystem;
  const admin = { email: 'ops-admin@example.com', password: 'operator desk passphrase 5' };
  let adminToken: string;
  let adminId: string;
  const WRONG = 'not the password at all';

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'operators',
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '10000', RATE_LIMIT_GENERAL_LIMIT: '100000' },
      authEnv: {
        BOOTSTRAP_ADMIN_EMAIL: admin.email,
        BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        RATE_LIMIT_ADMIN_LIMIT: '10000',
        LOCKOUT_PAIR_MAX_FAILURES: '5',
        LOCKOUT_BASE_LOCK_MS: String(10 * 60 * 1000),
        AUDIT_FLUSH_INTERVAL_MS: '50',
      },
    });
    adminToken = (await login(system.gatewayUrl, admin.email, admin.password, { forwardedFor: '10.60.0.1' })).accessToken;
    adminId = (await api().get('/api/me').set(bearer(adminToken))).body.id as string;
  });

  afterAll(() => system?.close());

  const api = () => request(system.gatewayUrl);
  const asAdmin = (path: string) => api().get(path).set(bearer(adminToken));
  const loginAt = (email: string, password: string, ip: string, userAgent = 'jest-e2e/1.0') =>
    api().post('/api/auth/login').set('x-forwarded-for', ip).set('user-agent', userAgent).send({ email, password });

  it('a locked-out user is found by email and in the locked list, with the networks the failures came from, and unlocked', async () => {
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('lockedout'), forwardedFor: '10.60.1.1' });
    for (let i = 0; i < 5; i++) expect((await loginAt(user.email, WRONG, '198.51.100.77')).status).toBe(401);
    expect((await loginAt(user.email, user.password, '198.51.100.77')).status).toBe(429);

    const found = await asAdmin(`/api/accounts?email=${encodeURIComponent(user.email.toUpperCase())}`);
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      items: [
        {
          id: user.id,
          email: user.email,
          role: 'user',
          status: 'active',
          createdAt: expect.any(String),
          lastLoginAt: expect.any(String),
          locked: true,
          lockedUntil: expect.any(String),
        },
      ],
      nextCursor: null,
    });
    expect((await asAdmin('/api/accounts?email=nobody-here%40example.com')).body).toEqual({ items: [], nextCursor: null });

    const locked = await asAdmin('/api/accounts?status=locked&limit=100');
    expect(locked.status).toBe(200);
    expect((locked.body.items as { id: string }[]).map((a) => a.id)).toContain(user.id);

    const state = await asAdmin(`/api/accounts/${user.id}/lockout`);
    expect(state.status).toBe(200);
    // Both addresses that tried are listed (the one that signed up, and the guesser).
    const addresses = state.body.addresses as Record<string, unknown>[];
    expect(addresses).toHaveLength(2);
    const address = addresses.find((a) => a.locked)!;
    expect(address).toMatchObject({ locked: true, network: '198.51.100.0/24', failureCount: 5 });
    expect(addresses.find((a) => !a.locked)).toMatchObject({ failureCount: 0, network: null, lastSuccessAt: expect.any(String) });
    expect(Date.parse(address.firstFailureAt as string)).toBeLessThanOrEqual(Date.parse(address.lastFailureAt as string));
    expect(JSON.stringify(state.body)).not.toContain('198.51.100.77');

    expect((await api().patch(`/api/accounts/${user.id}/unlock`).set(bearer(adminToken))).status).toBe(200);
    expect((await loginAt(user.email, user.password, '198.51.100.77')).status).toBe(200);
    const after = await asAdmin('/api/accounts?status=locked&limit=100');
    expect((after.body.items as { id: string }[]).map((a) => a.id)).not.toContain(user.id);

    const events = await asAdmin(`/api/accounts/${user.id}/events?limit=100`);
    expect(events.status).toBe(200);
    const types = (events.body.items as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['login_failed', 'account_locked', 'login_locked_out', 'account_unlocked', 'admin_action', 'login_succeeded']),
    );
    const unlock = (events.body.items as { type: string; actorId: string | null }[]).find((e) => e.type === 'account_unlocked');
    expect(unlock?.actorId).toBe(adminId);
    for (const e of events.body.items as { network: string | null }[]) {
      if (e.network) expect(e.network).toMatch(/\/(24|48)$/);
    }
    expect(JSON.stringify(events.body)).not.toContain('198.51.100.77');
    expect(JSON.stringify(events.body)).not.toContain(user.password);
  });

  it('narrows a search by email with status: an account that is not locked is not answered to ?status=locked', async () => {
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('narrowed'), forwardedFor: '10.60.9.1' });
    const search = async (status: string) =>
      ((await asAdmin(`/api/accounts?email=${encodeURIComponent(user.email)}&status=${status}`)).body.items as { id: string }[]).map(
        (a) => a.id,
      );
    expect(await search('locked')).toEqual([]);
    expect(await search('disabled')).toEqual([]);
    for (let i = 0; i < 5; i++) expect((await loginAt(user.email, WRONG, '198.51.100.79')).status).toBe(401);
    expect(await search('locked')).toEqual([user.id]);
    expect(await search('disabled')).toEqual([]);
  });

  it('keeps a lock that began after an unlock in the locked list, whatever order their events are written in', async () => {
    const trail = system.auth.get(AuditTrail);
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('relocked'), forwardedFor: '10.60.2.1' });
    for (let i = 0; i < 5; i++) expect((await loginAt(user.email, WRONG, '198.51.100.78')).status).toBe(401);
    await trail.flush();
    const lockedIds = async () =>
      ((await asAdmin('/api/accounts?status=locked&limit=100')).body.items as { id: string }[]).map((a) => a.id);
    expect(await lockedIds()).toContain(user.id);
    // The lock in Redis stays; only the index's events are replayed here, as they reach it when an
    // unlock and a relock fall into one batch (a password change during an attack, a batch written
    // after a Postgres outage) or come from two auth-service instances out of order.
    const unlocked = (at: number) =>
      trail.record({ type: 'account_unlocked', severity: 'info', details: { accountId: user.id } }, new Date(at));
    const locked = (at: number) =>
      trail.record({ type: 'account_locked', severity: 'warning', details: { accountId: user.id, lockSeconds: 600 } }, new Date(at));
    const now = Date.now();
    unlocked(now + 1);
    locked(now + 2);
    await trail.flush();
    expect(await lockedIds()).toContain(user.id);
    locked(now + 4);
    await trail.flush();
    unlocked(now + 3);
    await trail.flush();
    expect(await lockedIds()).toContain(user.id);
    // The listing drops an entry it found ended only while no lock has been recorded since it read it.
    const entry = async () => (await system.auth.get(UsersRepository).listLocked({ limit: 100 })).find((row) => row.id === user.id);
    const read = (await entry())!.lock_version;
    locked(now + 5);
    await trail.flush();
    await system.auth.get(SecurityEventsRepository).forgetEndedLocks([{ accountId: user.id, lockVersion: read }]);
    expect(await lockedIds()).toContain(user.id);
    // Once the lock is lifted, the listing finds it ended and takes the account off the list.
    expect((await api().patch(`/api/accounts/${user.id}/unlock`).set(bearer(adminToken))).status).toBe(200);
    expect(await lockedIds()).not.toContain(user.id);
    expect(await entry()).toBeUndefined();
  });

  it('keeps a lock in the locked list when the unlock before it was recorded by an instance whose clock runs ahead', async () => {
    const trail = system.auth.get(AuditTrail);
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('skewed'), forwardedFor: '10.60.3.1' });
    for (let i = 0; i < 5; i++) expect((await loginAt(user.email, WRONG, '198.51.100.79')).status).toBe(401);
    await trail.flush();
    const lockedIds = async () =>
      ((await asAdmin('/api/accounts?status=locked&limit=100')).body.items as { id: string }[]).map((a) => a.id);
    expect(await lockedIds()).toContain(user.id);
    // Instance B, whose clock is 2 s ahead, unlocked the account; a moment later instance A, on
    // time, recorded a new lock (the one still in force in Redis), and wrote it first.
    const now = Date.now();
    trail.record({ type: 'account_locked', severity: 'warning', details: { accountId: user.id, lockSeconds: 600 } }, new Date(now));
    await trail.flush();
    trail.record({ type: 'account_unlocked', severity: 'info', details: { accountId: user.id } }, new Date(now - 500 + 2000));
    await trail.flush();
    expect(await lockedIds()).toContain(user.id);
  });

  it('lists disabled accounts newest first with stable cursor pages, also while accounts are created', async () => {
    const disabled: string[] = [];
    for (let i = 0; i < 5; i++) {
      const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail(`dis${i}`) });
      expect((await api().patch(`/api/accounts/${user.id}/status`).set(bearer(adminToken)).send({ status: 'disabled' })).status).toBe(200);
      disabled.unshift(user.id); // newest first
    }
    const first = await asAdmin('/api/accounts?status=disabled&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((a: { id: string }) => a.id)).toEqual(disabled.slice(0, 2));
    // Accounts created and disabled meanwhile are newer than the cursor: later pages do not shift.
    const newcomer = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('newcomer') });
    await api().patch(`/api/accounts/${newcomer.id}/status`).set(bearer(adminToken)).send({ status: 'disabled' });
    const second = await asAdmin(`/api/accounts?status=disabled&limit=2&cursor=${first.body.nextCursor as string}`);
    expect(second.body.items.map((a: { id: string }) => a.id)).toEqual(disabled.slice(2, 4));
    const third = await asAdmin(`/api/accounts?status=disabled&limit=2&cursor=${second.body.nextCursor as string}`);
    expect(third.body.items.map((a: { id: string }) => a.id)[0]).toBe(disabled[4]);

    expect((await asAdmin('/api/accounts?cursor=not-a-cursor')).status).toBe(400);
    // Cursors a client made up, with a time or an id Postgres cannot hold: refused, not a 500.
    const cursor = (at: string) => Buffer.from(JSON.stringify([at, disabled[0]])).toString('base64url');
    for (const at of ['-010000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-12-06'])
      for (const status of ['disabled', 'locked'])
        expect((await asAdmin(`/api/accounts?status=${status}&cursor=${cursor(at)}`)).status).toBe(400);
    expect((await asAdmin(`/api/accounts/${disabled[0]}/events?cursor=9999999999999999999`)).status).toBe(400);
    expect((await asAdmin(`/api/accounts/${disabled[0]}/events?cursor=9223372036854775807`)).status).toBe(200);
    expect((await api().get('/api/me/activity?cursor=9223372036854775808').set(bearer(adminToken))).status).toBe(400);
    expect((await asAdmin('/api/accounts?status=sleeping')).status).toBe(400);
    expect((await asAdmin('/api/accounts?limit=1000')).status).toBe(400);
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('notadmin') });
    expect((await api().get('/api/accounts?status=locked').set(bearer(user.accessToken))).status).toBe(403);
  });

  it('a user sees their own sign-ins and password change in /me/activity, and nothing of others', async () => {
    const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
    const owner = await registerAndLogin(system.gatewayUrl, {
      email: uniqueEmail('activity'),
      forwardedFor: '203.0.113.9',
      userAgent: firefox,
    });
    const other = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('other'), forwardedFor: '192.0.2.50' });
    await loginAt(owner.email, WRONG, '192.0.2.99');
    const changed = await api()
      .post('/api/auth/password')
      .set(bearer(owner.accessToken))
      .set('x-forwarded-for', '203.0.113.9')
      .set('user-agent', firefox)
      .send({ currentPassword: owner.password, newPassword: 'an activity passphrase 77' });
    expect(changed.status).toBe(204);

    const activity = await api().get('/api/me/activity').set(bearer(owner.accessToken));
    expect(activity.status).toBe(200);
    const items = activity.body.items as { type: string; network: string | null; device: string | null; byAdmin: boolean }[];
    expect(items.map((e) => e.type)).toEqual(expect.arrayContaining(['login_succeeded', 'password_changed', 'sessions_revoked']));
    expect(items.find((e) => e.type === 'login_succeeded')).toMatchObject({
      network: '203.0.113.0/24',
      device: 'Firefox 128 on Windows',
      byAdmin: false,
    });
    expect(Object.keys(items[0]).sort()).toEqual(['at', 'byAdmin', 'device', 'id', 'network', 'type']);
    // Failed logins and other accounts' events are not shown.
    expect(items.map((e) => e.type)).not.toContain('login_failed');
    expect(JSON.stringify(activity.body)).not.toContain('192.0.2.');

    const theirs = await api().get('/api/me/activity').set(bearer(other.accessToken));
    expect(theirs.body.items.map((e: { type: string }) => e.type)).toEqual(['login_succeeded']);

    // Pages are cursor-stable.
    const page1 = await api().get('/api/me/activity?limit=1').set(bearer(owner.accessToken));
    const page2 = await api()
      .get(`/api/me/activity?limit=1&cursor=${page1.body.nextCursor as string}`)
      .set(bearer(owner.accessToken));
    expect(page2.body.items[0].id).not.toBe(page1.body.items[0].id);
    expect(Number(page2.body.items[0].id)).toBeLessThan(Number(page1.body.items[0].id));
  });

  it('every admin action is recorded with the admin, refused ones too', async () => {
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('acted') });
    await api().patch(`/api/accounts/${user.id}/role`).set(bearer(adminToken)).send({ role: 'admin' });
    await api().delete(`/api/accounts/${user.id}/sessions`).set(bearer(adminToken));
    await api().patch(`/api/accounts/${adminId}/status`).set(bearer(adminToken)).send({ status: 'disabled' }); // refused: own account
    const theirs = (await asAdmin(`/api/accounts/${user.id}/events?limit=100`)).body.items as {
      type: string;
      actorId: string;
      details: Record<string, unknown>;
    }[];
    const actions = theirs.filter((e) => e.type === 'admin_action');
    expect(actions.map((e) => [e.details.rule, e.details.outcome, e.actorId])).toEqual(
      expect.arrayContaining([
        ['changeRole', 'done', adminId],
        ['revokeSessions', 'done', adminId],
      ]),
    );
    const own = (await asAdmin(`/api/accounts/${adminId}/events?limit=100`)).body.items as {
      type: string;
      details: Record<string, unknown>;
    }[];
    expect(own.find((e) => e.type === 'admin_action' && e.details.rule === 'changeStatus')?.details.outcome).toBe('self_administration');
  });

  it('a user trying admin actions is refused, and each attempt is recorded with who tried it', async () => {
    const intruder = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('intruder') });
    const target = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('target') });
    const as = bearer(intruder.accessToken);
    for (const attempt of [
      api().patch(`/api/accounts/${intruder.id}/role`).set(as).send({ role: 'admin' }),
      api().patch(`/api/accounts/${target.id}/status`).set(as).send({ status: 'disabled' }),
      api().patch(`/api/accounts/${target.id}/unlock`).set(as),
      api().delete(`/api/accounts/${target.id}/sessions`).set(as),
      api().get(`/api/accounts/${target.id}/lockout`).set(as), // a read: refused, not an action
    ]) {
      expect((await attempt).status).toBe(403);
    }
    await system.auth.get(AuditTrail).flush();
    const attempts = async (id: string) =>
      (
        (await asAdmin(`/api/accounts/${id}/events?limit=100`)).body.items as {
          type: string;
          actorId: string;
          details: Record<string, unknown>;
        }[]
      )
        .filter((e) => e.type === 'admin_action')
        .map((e) => [e.details.rule, e.details.outcome, e.actorId]);
    expect(await attempts(intruder.id)).toEqual([['changeRole', 'forbidden', intruder.id]]);
    expect((await attempts(target.id)).sort()).toEqual(
      [
        ['changeStatus', 'forbidden', intruder.id],
        ['unlock', 'forbidden', intruder.id],
        ['revokeSessions', 'forbidden', intruder.id],
      ].sort(),
    );
  });

  it('records where an admin action came from (network and device), refused ones too', async () => {
    const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
    const target = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('origin-target') });
    const intruder = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('origin-intruder') });
    const changed = await api()
      .patch(`/api/accounts/${target.id}/role`)
      .set(bearer(adminToken))
      .set('x-forwarded-for', '198.51.100.31')
      .set('user-agent', firefox)
      .send({ role: 'admin' });
    expect(changed.status).toBe(200);
    const refused = await api()
      .patch(`/api/accounts/${target.id}/status`)
      .set(bearer(intruder.accessToken))
      .set('x-forwarded-for', '192.0.2.41')
      .send({ status: 'disabled' });
    expect(refused.status).toBe(403);
    const actions = ((await asAdmin(`/api/accounts/${target.id}/events?limit=100`)).body.items as SecurityEventItem[])
      .filter((e) => e.type === 'admin_action')
      .map((e) => [e.details.rule, e.actorId, e.network, e.device]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['changeRole', adminId, '198.51.100.0/24', 'Firefox 128 on Windows'],
        ['changeStatus', intruder.id, '192.0.2.0/24', expect.any(String)],
      ]),
    );
  });

  it('records a login refused because the account is disabled, with where it came from', async () => {
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('disabled-login') });
    expect((await api().patch(`/api/accounts/${user.id}/status`).set(bearer(adminToken)).send({ status: 'disabled' })).status).toBe(200);
    expect((await loginAt(user.email, user.password, '198.51.100.52')).status).toBe(403);
    const items = (await asAdmin(`/api/accounts/${user.id}/events?limit=100`)).body.items as SecurityEventItem[];
    expect(items.filter((e) => e.type === 'login_refused').map((e) => [e.details.rule, e.network])).toEqual([
      ['account_disabled', '198.51.100.0/24'],
    ]);
  });

  it("records every admin read of an account's audit trail with who read it and from where", async () => {
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('trail-read') });
    const read = () => asAdmin(`/api/accounts/${user.id}/events?limit=100`).set('x-forwarded-for', '198.51.100.63');
    expect((await read()).status).toBe(200);
    const items = (await read()).body.items as SecurityEventItem[];
    expect(items.filter((e) => e.type === 'audit_trail_read').map((e) => [e.actorId, e.network])).toEqual([[adminId, '198.51.100.0/24']]);
  });

  it('a user reading admin routes with HEAD is refused like a GET and nothing is recorded as an admin action', async () => {
    const reader = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('head-reader') });
    const target = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('head-target') });
    const as = bearer(reader.accessToken);
    for (const path of [`/api/accounts/${target.id}/lockout`, `/api/accounts/${target.id}/events`, '/api/accounts']) {
      expect((await api().head(path).set(as)).status).toBe(403);
    }
    await system.auth.get(AuditTrail).flush();
    const actions = async (id: string) =>
      ((await asAdmin(`/api/accounts/${id}/events?limit=100`)).body.items as { type: string; details: Record<string, unknown> }[])
        .filter((e) => e.type === 'admin_action')
        .map((e) => [e.details.rule, e.details.outcome]);
    // Reads are not actions (AuditedRolesGuard): a HEAD is a GET without the body.
    expect(await actions(target.id)).toEqual([]);
    expect(await actions(reader.id)).toEqual([]);
  });

  it('records a role change once it is committed, also when publishing it to Redis fails (it is retried)', async () => {
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('promoted-503') });
    const store = system.auth.get(SessionStore);
    const advance = store.advanceAuthVersion.bind(store);
    const spy = jest
      .spyOn(store, 'advanceAuthVersion')
      .mockImplementationOnce(() => Promise.reject(new DependencyUnavailableError('redis', new Error('Command timed out'))))
      .mockImplementation(advance);
    let answer: request.Response;
    try {
      answer = await api().patch(`/api/accounts/${user.id}/role`).set(bearer(adminToken)).send({ role: 'admin' });
    } finally {
      spy.mockRestore();
    }
    expect(answer.status).toBe(503);
    // The promotion is in force: the next login is an admin's.
    const again = await login(system.gatewayUrl, user.email, user.password);
    expect((await api().get('/api/me').set(bearer(again.accessToken))).body.role).toBe('admin');
    await system.auth.get(AuditTrail).flush();
    const items = (await asAdmin(`/api/accounts/${user.id}/events?limit=100`)).body.items as {
      type: string;
      actorId: string;
      details: Record<string, unknown>;
    }[];
    expect(items.filter((e) => e.type === 'account_role_changed').map((e) => [e.actorId, e.details.role])).toEqual([[adminId, 'admin']]);
  });

  it('reads one page of rows for a page of the account list, not every matching account', async () => {
    const db = new Client({ connectionString: system.database.url });
    await db.connect();
    try {
      await db.query(`INSERT INTO users (email, password_hash, status)
        SELECT 'bulk-' || g || '@example.com', 'x', 'disabled' FROM generate_series(1, 50000) g`);
      await db.query('ANALYZE users');
      // The statement auth-service sends for the page, as it sends it (the spy calls through).
      const spy = jest.spyOn(Client.prototype, 'query');
      let calls: unknown[][];
      try {
        expect((await asAdmin('/api/accounts?status=disabled&limit=20')).status).toBe(200);
        calls = [...spy.mock.calls];
      } finally {
        spy.mockRestore();
      }
      const sent = calls
        .filter(([text]) => typeof text === 'string' && /from "users"/.test(text) && /order by/.test(text))
        .map(([text, values]) => ({ text: text as string, values: values as unknown[] }));
      expect(sent).toHaveLength(1);
      const plan = (await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sent[0].text}`, sent[0].values)).rows[0]['QUERY PLAN'][0];
      const rowsRead = (node: Record<string, unknown>): number =>
        (/Scan/.test(node['Node Type'] as string) ? (node['Actual Rows'] as number) * (node['Actual Loops'] as number) : 0) +
        ((node.Plans as Record<string, unknown>[] | undefined) ?? []).reduce((n, child) => n + rowsRead(child), 0);
      // An index in page order reads about a page; a sort reads all 50,000 disabled accounts, on every page.
      expect(rowsRead(plan.Plan as Record<string, unknown>)).toBeLessThan(1000);
    } finally {
      await db.query(`DELETE FROM users WHERE email LIKE 'bulk-%@example.com'`);
      await db.end();
    }
  });

  it('an audit write during a Postgres outage is delivered after recovery', async () => {
    const trail = system.auth.get(AuditTrail);
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('outage') });
    await trail.flush();
    // Cut auth-service's database connections off: new connections are refused while the database
    // does not allow them, as during a failover.
    psql(`ALTER DATABASE "${system.database.name}" WITH ALLOW_CONNECTIONS false`);
    psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${system.database.name}'`);
    try {
      // Emitted straight into the trail: the request paths that emit need the database too.
      trail.record({ type: 'session_revoked', severity: 'info', details: { userId: user.id, reason: 'outage-test' } }, new Date());
      await sleep(300);
      await trail.flush(); // fails and keeps the event
    } finally {
      psql(`ALTER DATABASE "${system.database.name}" WITH ALLOW_CONNECTIONS true`);
    }
    expect(
      await eventually(
        async () => {
          const events = await asAdmin(`/api/accounts/${user.id}/events?limit=100`);
          return (
            events.status === 200 &&
            (events.body.items as { details: Record<string, unknown> }[]).some((e) => e.details.reason === 'outage-test')
          );
        },
        10_000,
        200,
      ),
    ).toBe(true);
  });
});

describe('the audit buffer at its limit while a batch is being written', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({ label: 'auditbuf', authEnv: { AUDIT_BUFFER_MAX: '5', AUDIT_FLUSH_INTERVAL_MS: '600000' } });
  });

  afterAll(() => system?.close());

  it('drops and counts only the oldest waiting events, never one being written', async () => {
    const trail = system.auth.get(AuditTrail);
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('auditbuf') });
    await trail.flush();
    const recordedAt = new Map<number, Date>();
    const record = (n: number) => {
      recordedAt.set(n, new Date());
      trail.record({ type: `buffered_${n}`, severity: 'info', details: { userId: user.id } }, recordedAt.get(n)!);
    };
    for (let n = 1; n <= 5; n++) record(n); // the buffer is full

    // A transaction elsewhere holds back inserts into the trail, as a slow Postgres would.
    const blocker = new Client({ connectionString: system.database.url });
    await blocker.connect();
    let writing: Promise<void> | undefined;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE security_events IN SHARE ROW EXCLUSIVE MODE');
      writing = trail.flush(); // events 1-5, blocked
      await sleep(200);
      for (let n = 6; n <= 12; n++) record(n); // 7 wait where 5 fit: 6 and 7 are dropped
    } finally {
      await blocker.query('COMMIT').catch(() => undefined);
      await blocker.end();
    }
    await writing;
    await trail.flush();
    const dropTimes = [6, 7].map((n) => recordedAt.get(n)!.toISOString());

    const stored = await system.auth.get(SecurityEventsRepository).listForAccount(user.id, { limit: 100 });
    const types = stored.map((e) => e.type).filter((type) => type.startsWith('buffered_'));
    expect(types.sort()).toEqual([1, 2, 3, 4, 5, 8, 9, 10, 11, 12].map((n) => `buffered_${n}`).sort());
    const dropped = await system.auth.get(Registry).getSingleMetricAsString('audit_events_dropped_total');
    expect(dropped).toMatch(/^audit_events_dropped_total 2$/m);

    // The trail itself says where it is incomplete: an auditor reads the trail, not the metrics.
    await trail.flush();
    const reader = new Client({ connectionString: system.database.url });
    await reader.connect();
    try {
      const { rows } = await reader.query<{ details: Record<string, unknown> }>(
        "SELECT details FROM security_events WHERE type = 'audit_events_dropped'",
      );
      expect(rows).toEqual([{ details: expect.objectContaining({ count: 2, from: dropTimes[0], to: dropTimes[1] }) }]);
    } finally {
      await reader.end();
    }
  });

  // Postgres falls behind again before the gap's event is written, and the buffer overflows past it:
  // the trail must still say which events are missing, not that one gap event is.
  it('keeps what a dropped gap event said in the next one', async () => {
    const trail = system.auth.get(AuditTrail);
    await trail.flush();
    const since = new Date();
    const recordedAt: Date[] = [];
    const record = (type: string) => {
      recordedAt.push(new Date());
      trail.record({ type, severity: 'info', details: {} }, recordedAt[recordedAt.length - 1]);
    };
    for (let n = 1; n <= 7; n++) record('regap_buffered'); // 1 and 2 are dropped
    await trail.flush(); // 3-7 written; the gap's event waits in the buffer
    for (let n = 8; n <= 12; n++) record('regap_buffered'); // 6 wait where 5 fit: the gap's event is dropped
    await trail.flush();
    await trail.flush();

    const reader = new Client({ connectionString: system.database.url });
    await reader.connect();
    try {
      const { rows } = await reader.query<{ details: Record<string, unknown> }>(
        "SELECT details FROM security_events WHERE type = 'audit_events_dropped' AND at >= $1",
        [since],
      );
      expect(rows).toEqual([
        { details: expect.objectContaining({ count: 2, from: recordedAt[0].toISOString(), to: recordedAt[1].toISOString() }) },
      ]);
    } finally {
      await reader.end();
    }
  });

  // The shutdown's write is the one that gets through: the gap it then records must reach the trail
  // too, not be the one event lost at shutdown.
  it('records the gap in the trail when the writes get through only at shutdown', async () => {
    const trail = system.auth.get(AuditTrail);
    await trail.flush();
    const before = await countDropMarkers(system.database.url);
    for (let n = 1; n <= 7; n++) trail.record({ type: 'stop_buffered', severity: 'info', details: { n } }, new Date()); // 1 and 2 are dropped
    const errorLog = jest.spyOn(Logger.prototype, 'error');
    let errors: string[];
    try {
      await system.restartAuthService(0, {}); // closes the app, as SIGTERM does
    } finally {
      errors = errorLog.mock.calls.map(([message]) => String(message));
      errorLog.mockRestore();
    }
    expect(errors).not.toContainEqual(expect.stringMatching(/audit events .*lost/));
    expect(await countDropMarkers(system.database.url)).toBe(before + 1);
  });
});

async function countDropMarkers(databaseUrl: string): Promise<number> {
  const reader = new Client({ connectionString: databaseUrl });
  await reader.connect();
  try {
    const { rows } = await reader.query<{ count: string }>("SELECT count(*) FROM security_events WHERE type = 'audit_events_dropped'");
    return Number(rows[0].count);
  } finally {
    await reader.end();
  }
}

describe('the audit trail at shutdown', () => {
  let system: TestSystem;

  beforeAll(async () => {
    // Nothing is written by the timer: only the shutdown writes what is buffered.
    system = await startTestSystem({ label: 'auditstop', authEnv: { AUDIT_FLUSH_INTERVAL_MS: '600000' } });
  });

  afterAll(() => system?.close());

  it('a flush under steady recording returns once what was recorded before it is written', async () => {
    const trail = system.auth.get(AuditTrail);
    const record = () => trail.record({ type: 'steady_traffic', severity: 'info', details: {} }, new Date());
    for (let n = 0; n < 100; n++) record();
    // Busy traffic: events arrive on every turn of the event loop, so the buffer is never empty
    // when a batch has been written (reads of the trail flush first).
    let busy = true;
    const traffic = () => {
      if (!busy) return;
      for (let n = 0; n < 20; n++) record();
      setImmediate(traffic);
    };
    traffic();
    let outcome: string;
    try {
      outcome = await settleWithin(
        trail.flush().then(() => 'flushed'),
        3_000,
        'still flushing after 3 s',
      );
    } finally {
      busy = false;
    }
    expect(outcome).toBe('flushed');
    await trail.flush();
  });

  it('writes every buffered event before the app closes, not only the first batch', async () => {
    const trail = system.auth.get(AuditTrail);
    await trail.flush();
    for (let n = 1; n <= 1_200; n++) trail.record({ type: 'shutdown_buffered', severity: 'info', details: { n } }, new Date());
    await system.restartAuthService(0, {}); // closes the app, as SIGTERM does
    const db = new Client({ connectionString: system.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ count: string }>("SELECT count(*) FROM security_events WHERE type = 'shutdown_buffered'");
      expect(Number(rows[0].count)).toBe(1_200);
    } finally {
      await db.end();
    }
  });
});

describe('the audit trail at shutdown during a Postgres outage', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({ label: 'auditlost', authEnv: { AUDIT_FLUSH_INTERVAL_MS: '600000' } });
  });

  afterAll(async () => {
    psql(`ALTER DATABASE "${system.database.name}" WITH ALLOW_CONNECTIONS true`);
    await system?.close();
  });

  it('says how many events it could not write, as an error, and counts them as dropped, instead of "kept, retry"', async () => {
    const trail = system.auth.get(AuditTrail);
    const registry = system.auth.get(Registry);
    await trail.flush();
    // Failed logins go to the audit trail only (not to the log): nothing else would show they are gone.
    for (let n = 0; n < 3; n++) trail.record({ type: 'login_failed', severity: 'info', auditOnly: true, details: { n } }, new Date());
    psql(`ALTER DATABASE "${system.database.name}" WITH ALLOW_CONNECTIONS false`);
    psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${system.database.name}'`);
    const errorLog = jest.spyOn(Logger.prototype, 'error');
    let errors: string[];
    try {
      await system.auth.close(); // as on SIGTERM
    } finally {
      errors = errorLog.mock.calls.map(([message]) => String(message));
      errorLog.mockRestore();
    }
    expect(errors).toContainEqual(expect.stringMatching(/3 audit events .*lost/));
    expect(await registry.getSingleMetricAsString('audit_events_dropped_total')).toMatch(/^audit_events_dropped_total 3$/m);
  });
});

/** An item of `GET /accounts/:id/events`. */
interface SecurityEventItem {
  type: string;
  actorId: string | null;
  network: string | null;
  device: string | null;
  details: Record<string, unknown>;
}

function psql(sqlText: string): void {
  execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAtc', sqlText], {
    stdio: 'pipe',
  });
}
