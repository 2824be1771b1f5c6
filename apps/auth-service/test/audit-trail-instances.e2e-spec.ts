import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { eventually, startTestSystem, type TestSystem } from '../../../test/support';
import { AuditTrail } from '../src/audit/audit-trail';
import { SecurityEventsRepository, type SecurityEventRow } from '../src/audit/security-events.repository';

/**
 * Several auth-service instances share one audit trail, each writing its batches (events, last
 * logins, the index of locked accounts) as one transaction: they may wait for each other, and must
 * never deadlock, or one instance's batch fails and its locks are missing from `?status=locked`
 * until a retry gets through; and the ids they store must follow the order they commit in.
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

  // Event ids are the order of every listing and its cursor: a reader that has paged past an id, or
  // an export that keeps the newest id it has read, must never find an event below it later.
  it("never lists an event below ids a reader already paged past: another instance's batch still being written comes after them", async () => {
    const [one, two] = system.authApps.map((app) => app.get(AuditTrail));
    const repository = system.auth.get(SecurityEventsRepository);
    const [account, locked] = [randomUUID(), randomUUID()];
    one.record({ type: 'written_before', severity: 'info', details: { userId: account } }, new Date());
    await one.flush();
    // Holds instance one's batch after its events are inserted, on its write to the index of locked accounts.
    await db.query(`INSERT INTO account_locks (account_id, locked_at, locked_until) VALUES ($1, now(), now() + interval '1 hour')`, [
      locked,
    ]);
    const blocker = new Client({ connectionString: system.database.url });
    await blocker.connect();
    const waiting = async () =>
      Number(
        (await db.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))
          .rows[0].n,
      );
    const pages: SecurityEventRow[] = [];
    let writes: Promise<void>[] = [];
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM account_locks WHERE account_id = $1 FOR UPDATE', [locked]);
      one.record({ type: 'account_locked', severity: 'warning', details: { userId: locked, lockSeconds: 900 } }, new Date());
      one.record({ type: 'written_first', severity: 'info', details: { userId: account } }, new Date());
      writes = [one.flush()];
      expect(await eventually(async () => (await waiting()) >= 1, 5_000)).toBe(true);
      two.record({ type: 'written_second', severity: 'info', details: { userId: account } }, new Date());
      writes.push(two.flush());
      // Instance two's batch has either been stored or is waiting for instance one's.
      const stored = async () => (await repository.listForAccount(account, { limit: 10 })).some((e) => e.type === 'written_second');
      expect(await eventually(async () => (await stored()) || (await waiting()) >= 2, 5_000)).toBe(true);
      // A reader pages through the account's events, one per page, meanwhile.
      let before: string | undefined;
      for (;;) {
        const [event] = await repository.listForAccount(account, { before, limit: 1 });
        if (!event) break;
        pages.push(event);
        before = String(event.id);
      }
    } finally {
      await blocker.query('COMMIT').catch(() => undefined);
      await blocker.end();
      await Promise.all(writes);
    }

    const all = await repository.listForAccount(account, { limit: 10 });
    expect(all.map((e) => e.type).sort()).toEqual(['written_before', 'written_first', 'written_second']);
    // What the reader saw is still the oldest part of the listing: whatever it did not see is newer.
    expect(all.slice(all.length - pages.length).map((e) => e.type)).toEqual(pages.map((e) => e.type));
  });
});
