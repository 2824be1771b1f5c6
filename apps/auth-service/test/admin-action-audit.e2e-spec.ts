import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';

import { bearer, login, registerAndLogin, startTestSystem, uniqueEmail, type TestSystem, type TestUser } from '../../../test/support';
import { AuditTrail } from '../src/audit/audit-trail';

/**
 * Every admin action, whatever its outcome, is one `admin_action` event in the audit trail with
 * who acted, on which account and the outcome: done, refused by role, unknown account, conflict,
 * invalid input, or refused by the admin's rate limit.
 */
describe('admin actions in the audit trail', () => {
  let system: TestSystem;
  let db: Client;
  const admin = { email: 'audit-admin@example.com', password: 'ledger of every change 9' };
  let adminToken: string;
  let adminId: string;
  const ADMIN_LIMIT = 20;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'adminaudit',
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '10000', RATE_LIMIT_GENERAL_LIMIT: '100000' },
      authEnv: {
        BOOTSTRAP_ADMIN_EMAIL: admin.email,
        BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        RATE_LIMIT_ADMIN_LIMIT: String(ADMIN_LIMIT),
      },
    });
    adminToken = (await login(system.gatewayUrl, admin.email, admin.password)).accessToken;
    adminId = (await api().get('/api/me').set(bearer(adminToken))).body.id as string;
    db = new Client({ connectionString: system.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await system?.close();
  });

  const api = () => request(system.gatewayUrl);

  /** The admin actions `actorId` made or tried, oldest first, read from the trail's table (some have no account). */
  const actionsBy = async (actorId: string) => {
    await system.auth.get(AuditTrail).flush();
    const { rows } = await db.query<{ account_id: string | null; details: Record<string, unknown> }>(
      `SELECT account_id, details FROM security_events WHERE type = 'admin_action' AND actor_id = $1 ORDER BY id`,
      [actorId],
    );
    return rows.map((r) => [r.details.rule, r.account_id, r.details.outcome]);
  };

  it('records each attempt once with its outcome, the invalid id included', async () => {
    const target = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('audited') });
    const unknown = '0b7f8f1e-3d0c-4c4a-9d55-6a4f3e2b1c0d';
    const as = bearer(adminToken);
    const attempts: [request.Test, number][] = [
      [api().patch(`/api/accounts/${target.id}/role`).set(as).send({ role: 'admin' }), 200],
      [api().patch(`/api/accounts/${unknown}/status`).set(as).send({ status: 'disabled' }), 404],
      [api().patch(`/api/accounts/${adminId}/status`).set(as).send({ status: 'disabled' }), 409],
      [api().patch(`/api/accounts/${target.id}/role`).set(as).send({ role: 'root' }), 400],
      [api().delete('/api/accounts/not-an-account-id/sessions').set(as), 400],
    ];
    for (const [attempt, status] of attempts) expect((await attempt).status).toBe(status);

    expect(await actionsBy(adminId)).toEqual([
      ['changeRole', target.id, 'done'],
      ['changeStatus', unknown, 'account_not_found'],
      ['changeStatus', adminId, 'self_administration'],
      ['changeRole', target.id, 'Bad Request'],
      // Refused as invalid input, like a bad body: not as the failure a bug would record.
      ['revokeSessions', null, 'invalid_account_id'],
    ]);
  });

  // Operators find an account by its email first: one pasted where the id goes must not reach the
  // log and Sentry, which see emails only as pseudonyms. The trail keeps no such id either.
  it('records a path id that is not an account id (an email typed in its place) as no account, in the log and Sentry too', async () => {
    const typed = uniqueEmail('typed-as-id');
    const warned = jest.spyOn(Logger.prototype, 'warn');
    let reports: unknown[];
    try {
      expect((await api().patch(`/api/accounts/${typed}/unlock`).set(bearer(adminToken))).status).toBe(400);
      // What the log sink writes; the Sentry sink sends the same report.
      reports = warned.mock.calls
        .map(([report]) => report as unknown)
        .filter((r) => (r as { securityEvent?: unknown }).securityEvent === 'admin_action');
    } finally {
      warned.mockRestore();
    }
    expect(reports).toEqual([expect.objectContaining({ rule: 'unlock', adminId, outcome: 'invalid_account_id', accountId: undefined })]);
    expect(JSON.stringify(reports)).not.toContain(typed.split('@')[0]);
    expect((await actionsBy(adminId)).at(-1)).toEqual(['unlock', null, 'invalid_account_id']);
  });

  // Ids in capitals reach the same account (some tools copy UUIDs that way); a log or Sentry search
  // for the account's id, as every other event and answer spells it, must find the action too.
  it('reports an account id written in capitals as the id every other event of the account names', async () => {
    const target = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('capitals') });
    const logged = [jest.spyOn(Logger.prototype, 'log'), jest.spyOn(Logger.prototype, 'warn')];
    let reports: Record<string, unknown>[];
    try {
      expect((await api().patch(`/api/accounts/${target.id.toUpperCase()}/unlock`).set(bearer(adminToken))).status).toBe(200);
      reports = logged
        .flatMap((spy) => spy.mock.calls.map(([report]) => report as Record<string, unknown>))
        .filter((r) => r !== null && typeof r === 'object' && 'securityEvent' in r);
    } finally {
      logged.forEach((spy) => spy.mockRestore());
    }
    expect(reports.map((r) => [r.securityEvent, r.accountId])).toEqual([
      ['account_unlocked', target.id],
      ['admin_action', target.id],
    ]);
  });

  it('answers an id that is not a UUID with a 400 naming the id, on every admin route', async () => {
    const as = bearer(adminToken);
    for (const attempt of [
      api().get('/api/accounts/12345/lockout').set(as),
      api().get('/api/accounts/12345/events').set(as),
      api().patch('/api/accounts/12345/unlock').set(as),
    ]) {
      const res = await attempt;
      expect([res.status, res.body]).toEqual([400, { statusCode: 400, message: 'id must be a UUID', error: 'invalid_account_id' }]);
    }
  });

  it('records an admin action refused by the admin rate limit with the admin, the account and the outcome', async () => {
    // An admin of their own, so that the budget spent here is theirs alone.
    const second: TestUser = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('busy-admin') });
    expect((await api().patch(`/api/accounts/${second.id}/role`).set(bearer(adminToken)).send({ role: 'admin' })).status).toBe(200);
    const token = (await login(system.gatewayUrl, second.email, second.password)).accessToken;
    const target = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('busy-target') });
    for (let i = 0; i < ADMIN_LIMIT; i++) {
      expect((await api().patch(`/api/accounts/${target.id}/unlock`).set(bearer(token))).status).toBe(200);
    }

    expect((await api().patch(`/api/accounts/${target.id}/status`).set(bearer(token)).send({ status: 'disabled' })).status).toBe(429);
    expect((await api().delete(`/api/accounts/${target.id}/sessions`).set(bearer(token))).status).toBe(429);
    // A read refused by the budget is not an action (as for reads the roles guard refuses).
    expect((await api().get(`/api/accounts/${target.id}/lockout`).set(bearer(token))).status).toBe(429);

    const actions = await actionsBy(second.id);
    expect(actions.filter(([, , outcome]) => outcome === 'done')).toHaveLength(ADMIN_LIMIT);
    expect(actions.filter(([, , outcome]) => outcome !== 'done')).toEqual([
      ['changeStatus', target.id, 'rate_limited'],
      ['revokeSessions', target.id, 'rate_limited'],
    ]);
    // The account was left as it was.
    expect((await api().get('/api/me').set(bearer(target.accessToken))).status).toBe(200);
  });
});
