import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely, type Selectable } from 'kysely';

import { KYSELY } from '@nest-hardening/database';

import type { AuthDatabase, SecurityEventsTable } from '../database/auth-database.schema';
import type { AuditRecord } from './audit-record';

export type SecurityEventRow = Selectable<SecurityEventsTable>;

/**
 * The order the trail's writes take account rows in: the batches of two instances, each one
 * transaction, then wait for each other instead of deadlocking.
 */
const byAccountId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Held by each batch of appended events until it commits; any constant works if every process uses
 * it (the migrations take 727_001, the admin-set changes 727_002).
 */
const APPEND_LOCK_ID = 727_003;

/** How long after its recorded end an entry of the index of locked accounts is kept (see deleteOlderThan). */
const LOCK_INDEX_CLOCK_MARGIN_MS = 24 * 3600 * 1000;

/** What an address did to an account, from the audit trail: its network and its failed attempts. */
export interface AddressHistory {
  address: string;
  network: string | null;
  firstFailureAt: Date;
  lastFailureAt: Date;
  failureCount: number;
}

/** Postgres access for the audit trail and the index of locked accounts; rows are appended, never updated. */
@Injectable()
export class SecurityEventsRepository {
  constructor(@Inject(KYSELY) private readonly db: Kysely<AuthDatabase>) {}

  /**
   * Runs `work` in one transaction, with a repository whose statements belong to it: committed
   * together, or (on any failure) none of them.
   */
  transaction<T>(work: (repository: SecurityEventsRepository) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new SecurityEventsRepository(trx)));
  }

  /** The ids of the accounts these normalised emails belong to (unknown emails are absent). */
  async accountIdsByEmail(emails: string[]): Promise<Map<string, string>> {
    if (emails.length === 0) return new Map();
    const rows = await this.db.selectFrom('users').select(['id', 'email']).where('email', 'in', emails).execute();
    return new Map(rows.map((row) => [row.email, row.id]));
  }

  /**
   * Appends events; run it in {@link transaction}. Ids, the order of every listing and its cursor,
   * come from a sequence when a row is inserted, not when it commits: had two instances' batches
   * been written at once, the one committed last could hold ids below those a reader had already
   * paged past (or an export had already passed), and be missed for good. So one batch at a time
   * appends, from its first id to its commit, and a listing only ever grows at its newest end.
   */
  async append(records: (AuditRecord & { accountId: string | null })[]): Promise<void> {
    if (records.length === 0) return;
    await sql`SELECT pg_advisory_xact_lock(${APPEND_LOCK_ID})`.execute(this.db);
    await this.db
      .insertInto('security_events')
      .values(
        records.map((r) => ({
          at: r.at,
          type: r.type,
          account_id: r.accountId,
          actor_id: r.actorId,
          network: r.network,
          device: r.device,
          details: JSON.stringify(r.details),
        })),
      )
      .execute();
  }

  /** Moves each account's last login forward to its latest login in the batch: one statement per batch. */
  async recordLogins(logins: { accountId: string; at: Date }[]): Promise<void> {
    const latest = new Map<string, Date>();
    for (const { accountId, at } of logins) {
      const known = latest.get(accountId);
      if (!known || known < at) latest.set(accountId, at);
    }
    if (latest.size === 0) return;
    const ordered = [...latest].sort(([a], [b]) => byAccountId(a, b));
    await sql`
      update users set last_login_at = logins.at
      from unnest(${ordered.map(([id]) => id)}::uuid[], ${ordered.map(([, at]) => at)}::timestamptz[]) as logins(id, at)
      where users.id = logins.id and (users.last_login_at is null or users.last_login_at < logins.at)
    `.execute(this.db);
  }

  /**
   * Adds started locks to the index of locked accounts. `locked_at` (the listing's order) only moves
   * forward; every lock recorded writes a new version of the row ({@link forgetEndedLocks}).
   */
  async recordLocks(locks: { accountId: string; at: Date; until: Date }[]): Promise<void> {
    for (const lock of [...locks].sort((a, b) => byAccountId(a.accountId, b.accountId))) {
      await this.db
        .insertInto('account_locks')
        .values({ account_id: lock.accountId, locked_at: lock.at, locked_until: lock.until })
        .onConflict((oc) =>
          oc.column('account_id').doUpdateSet({
            locked_at: sql`greatest(account_locks.locked_at, excluded.locked_at)`,
            locked_until: sql`greatest(account_locks.locked_until, excluded.locked_until)`,
          }),
        )
        .execute();
    }
  }

  /**
   * Drops index entries the listing found ended, each only if it is still the version the listing
   * read (`lockVersion`, the row's `xmin`): a lock recorded since, even one stamped earlier by an
   * instance whose clock runs behind, has written a new version and stays listed. Entries are never
   * dropped by comparing the times of events: they come from the clocks of different instances.
   */
  async forgetEndedLocks(ended: { accountId: string; lockVersion: string }[]): Promise<void> {
    if (ended.length === 0) return;
    await sql`
      delete from account_locks
      using unnest(${ended.map((e) => e.accountId)}::uuid[], ${ended.map((e) => e.lockVersion)}::text[]) as ended(id, version)
      where account_locks.account_id = ended.id and account_locks.xmin::text = ended.version
    `.execute(this.db);
  }

  /** An account's events, newest first; `before` is the id the previous page ended at. */
  listForAccount(accountId: string, page: { before?: string; limit: number; types?: readonly string[] }): Promise<SecurityEventRow[]> {
    let query = this.db.selectFrom('security_events').selectAll().where('account_id', '=', accountId);
    if (page.before !== undefined) query = query.where('id', '<', page.before);
    if (page.types) query = query.where('type', 'in', [...page.types]);
    return query.orderBy('id', 'desc').limit(page.limit).execute();
  }

  /** Where each of an account's addresses (by lockout hash) failed from, and when. */
  async addressHistory(accountId: string, addresses: string[]): Promise<AddressHistory[]> {
    if (addresses.length === 0) return [];
    const rows = await this.db
      .selectFrom('security_events')
      .select((eb) => [
        sql<string>`details->>'address'`.as('address'),
        'network',
        eb.fn.min('at').as('first'),
        eb.fn.max('at').as('last'),
        eb.fn.countAll<string>().as('count'),
      ])
      .where('account_id', '=', accountId)
      .where('type', '=', 'login_failed')
      .where(sql<string>`details->>'address'`, 'in', addresses)
      .groupBy([sql`details->>'address'`, 'network'])
      .execute();
    return rows.map((r) => ({
      address: r.address,
      network: r.network,
      firstFailureAt: new Date(r.first as unknown as string | Date),
      lastFailureAt: new Date(r.last as unknown as string | Date),
      failureCount: Number(r.count),
    }));
  }

  /** Deletes up to `batch` events older than `cutoff`; returns how many went. */
  async deleteOlderThan(cutoff: Date, batch: number): Promise<number> {
    const result = await sql<{ id: string }>`
      DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE at < ${cutoff} ORDER BY id LIMIT ${batch})
      RETURNING id`.execute(this.db);
    // locked_until is on the clock of the instance that recorded the lock: only a day past it is
    // the lock surely over, whatever that clock's error (an entry kept longer costs the listing a check).
    await this.db
      .deleteFrom('account_locks')
      .where('locked_until', '<', new Date(Date.now() - LOCK_INDEX_CLOCK_MARGIN_MS))
      .execute();
    return result.rows.length;
  }
}
