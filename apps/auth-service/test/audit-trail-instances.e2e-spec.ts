import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { startTestSystem, type TestSystem } from '../../../test/support';
import { AuditTrail } from '../src/audit/audit-trail';

/**
 * Several auth-service instances share one audit trail, each writing its batches (events, last
 * logins, the index of locked accounts) as one transaction: they may wait for each other, and must
 * never deadlock, or one instance's batch fails and its locks are missing from `?status=locked`
 * until a retry gets through.
 */
describe('the audit trails of two auth-service instances writing at once', () => {
  let system: TestSystem;
  let db: Client;

  beforeAll(async () => {
    system = await startTestSystem({ label: 'audittwo', extraAuthServices: 1, authEnv: { AUDIT_FLUSH_INTERVAL_MS: '600000' } });
    db = new Client({ connectionString: system.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await system?.close();
  });

  it('stores both batches when each relocks an account the other unlocks', async () => {
    const [one, two] = system.authApps.map((app) => app.get(AuditTrail));
    await Promise.all([one.flush(), two.flush()]);
    const [a, b] = [randomUUID(), randomUUID()];
    // Both accounts are in the index already, as every account locked within the retention period is.
    await db.query(
      `INSERT INTO account_locks (account_id, locked_at, locked_until)
       SELECT id, now() - interval '1 hour', now() + interval '1 hour' FROM unnest($1::uuid[]) AS id`,
      [[a, b]],
    );
    // Each change to the index takes a moment, so that the two batches are inside their transactions at once.
    await db.query(
      `CREATE FUNCTION slow_lock_index() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    await db.query(`CREATE TRIGGER slow_lock_index BEFORE UPDATE ON account_locks FOR EACH ROW EXECUTE FUNCTION slow_lock_index()`);
    const at = new Date();
    one.record({ type: 'account_locked', severity: 'warning', details: { userId: a, lockSeconds: 900 } }, at);
    one.record({ type: 'account_unlocked', severity: 'info', details: { userId: b } }, at);
    two.record({ type: 'account_locked', severity: 'warning', details: { userId: b, lockSeconds: 900 } }, at);
    two.record({ type: 'account_unlocked', severity: 'info', details: { userId: a } }, at);
    try {
      // A flush resolves once its batch is stored, or once its write failed (the batch then waits for a retry).
      await Promise.all([one.flush(), two.flush()]);
    } finally {
      await db.query('DROP TRIGGER slow_lock_index ON account_locks');
      await db.query('DROP FUNCTION slow_lock_index()');
    }

    const { rows } = await db.query<{ type: string; account_id: string }>(
      'SELECT type, account_id FROM security_events WHERE account_id = ANY($1::uuid[]) ORDER BY type, account_id',
      [[a, b]],
    );
    expect(rows).toHaveLength(4);
    // Both accounts were locked again at `at`: each stays listed, whichever unlock was applied first.
    const index = await db.query<{ account_id: string }>('SELECT account_id FROM account_locks WHERE account_id = ANY($1::uuid[])', [
      [a, b],
    ]);
    expect(index.rows.map((row) => row.account_id).sort()).toEqual([a, b].sort());
  });
});
