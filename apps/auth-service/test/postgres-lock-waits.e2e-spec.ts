import { Client } from 'pg';
import request from 'supertest';

import { bearer, login, registerAndLogin, sleep, startTestSystem, uniqueEmail, type TestSystem } from '../../../test/support';
import { AccountDirectory } from '../src/accounts/account-directory.service';
import { AuditTrail } from '../src/audit/audit-trail';

/**
 * A statement that waits on a lock held elsewhere (a long transaction, a migration, an operator's
 * session) past DATABASE_QUERY_TIMEOUT_MS is answered 503; what was answered 503 must not be
 * applied when the lock is released afterwards.
 */
describe('a statement waiting on a lock past DATABASE_QUERY_TIMEOUT_MS', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'pglockwait',
      authEnv: { DATABASE_QUERY_TIMEOUT_MS: '1000', AUDIT_FLUSH_INTERVAL_MS: '600000' },
      gatewayEnv: { RATE_LIMIT_AUTH_LIMIT: '10000' },
    });
  });

  afterAll(() => system?.close());

  /** Runs `work` while another session holds the lock `lockSql` takes, releasing it once `work` is done. */
  async function whileLocked<T>(lockSql: string, parameters: unknown[], work: () => Promise<T>): Promise<T> {
    const blocker = new Client({ connectionString: system.database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(lockSql, parameters);
      return await work();
    } finally {
      await blocker.query('COMMIT').catch(() => undefined);
      await blocker.end();
    }
  }

  it('a password change answered 503 is not applied later, with the other sessions still alive', async () => {
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('lockwait') });
    const otherDevice = await login(system.gatewayUrl, user.email, user.password);
    const newPassword = 'a brand new passphrase 42';

    const answer = await whileLocked('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id], () =>
      request(system.gatewayUrl)
        .post('/api/auth/password')
        .set(bearer(user.accessToken))
        .send({ currentPassword: user.password, newPassword }),
    );
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBeDefined();
    await sleep(500); // time for a statement left running to finish

    // Refused means refused: the old password still works, the new one does not. (Applied late, the
    // password changed, the other sessions stayed alive, and the user's retry failed as a wrong password.)
    const withNew = await request(system.gatewayUrl).post('/api/auth/login').send({ email: user.email, password: newPassword });
    expect(withNew.status).toBe(401);
    const withOld = await request(system.gatewayUrl).post('/api/auth/login').send({ email: user.email, password: user.password });
    expect(withOld.status).toBe(200);
    expect((await request(system.gatewayUrl).get('/api/me').set(bearer(otherDevice.accessToken))).status).toBe(200);
  });

  it('a lock whose write to the index of locked accounts timed out is listed once Postgres answers again', async () => {
    const trail = system.auth.get(AuditTrail);
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('lockindex') });
    const wrongLogin = () =>
      request(system.gatewayUrl).post('/api/auth/login').send({ email: user.email, password: 'not the password at all' });
    for (let i = 0; i < 5; i++) expect((await wrongLogin()).status).toBe(401);
    expect((await request(system.gatewayUrl).post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(
      429,
    );

    // The batch holding `account_locked` reaches the events table, then times out on the index.
    await whileLocked('LOCK TABLE account_locks IN SHARE ROW EXCLUSIVE MODE', [], () => trail.flush());

    // The index is read only from the trail's writes: a lock missing from it is hidden from admins for as long as it lasts.
    const locked = await system.auth.get(AccountDirectory).list({ status: 'locked', limit: 100 });
    expect(locked.items.map((account) => account.id)).toContain(user.id);
    // Retried with its batch, the event itself is stored once.
    const db = new Client({ connectionString: system.database.url });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT 1 FROM security_events WHERE type = 'account_locked' AND account_id = $1", [user.id]);
      expect(rows).toHaveLength(1);
    } finally {
      await db.end();
    }
  });

  it('an audit batch whose write timed out is stored once, not once for the timed-out write and once for the retry', async () => {
    const trail = system.auth.get(AuditTrail);
    await trail.flush();
    for (let n = 0; n < 3; n++) trail.record({ type: 'lockwait_event', severity: 'info', details: { n } }, new Date());

    await whileLocked('LOCK TABLE security_events IN SHARE ROW EXCLUSIVE MODE', [], async () => {
      await trail.flush(); // times out and keeps the batch
      await sleep(200);
    });
    await sleep(500);
    await trail.flush(); // the retry

    const db = new Client({ connectionString: system.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: string; count: string }>(
        "SELECT details->>'n' AS n, count(*) FROM security_events WHERE type = 'lockwait_event' GROUP BY 1 ORDER BY 1",
      );
      expect(rows.map((row) => [row.n, Number(row.count)])).toEqual([
        ['0', 1],
        ['1', 1],
        ['2', 1],
      ]);
    } finally {
      await db.end();
    }
  });
});
