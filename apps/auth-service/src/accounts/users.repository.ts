import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely, type Selectable } from 'kysely';

import type { Role } from '@nest-hardening/auth';
import { KYSELY } from '@nest-hardening/database';

import type { AuthDatabase, UsersTable } from '../database/auth-database.schema';

export type UserRow = Selectable<UsersTable>;
export type AccountStatus = UserRow['status'];

/** Where a page of a listing ended: the sort time (ISO) and the id. */
export interface ListCursor {
  at: string;
  id: string;
}

/** Outcome of a change an admin may not make to the last active admin, or may no longer make at all. */
export type GuardedUpdate = { updated: UserRow } | { refused: 'not_found' | 'last_admin' | 'not_admin' };

// Serialises changes that could leave no active admin; any constant works if every process uses it.
const ADMIN_SET_LOCK_ID = 727_002;

/** Postgres access for accounts; the only place that knows the users table. */
@Injectable()
export class UsersRepository {
  constructor(@Inject(KYSELY) private readonly db: Kysely<AuthDatabase>) {}

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Accounts newest first, optionally of one status, after the `(createdAt, id)` the previous page
   * ended at: an account created meanwhile is newer than any cursor, so pages never shift.
   */
  listNewest(page: { status?: AccountStatus; after?: ListCursor; limit: number }): Promise<UserRow[]> {
    // created_at is stored at the millisecond a cursor carries (migration 0005): the index gives the order.
    let query = this.db.selectFrom('users').selectAll();
    if (page.status) query = query.where('status', '=', page.status);
    const after = page.after;
    if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(after.at), after.id)));
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
  }

  /**
   * Accounts in the index of started locks, most recently locked first (the caller checks each lock
   * is live), each with the version of its entry (`lock_version`) for `forgetEndedLocks`.
   */
  listLocked(page: { after?: ListCursor; limit: number }): Promise<(UserRow & { locked_at: Date; lock_version: string })[]> {
    let query = this.db
      .selectFrom('account_locks')
      .innerJoin('users', 'users.id', 'account_locks.account_id')
      .selectAll('users')
      .select(['account_locks.locked_at', sql<string>`account_locks.xmin::text`.as('lock_version')]);
    const after = page.after;
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('account_locks.locked_at', '<', new Date(after.at)),
          eb.and([eb('account_locks.locked_at', '=', new Date(after.at)), eb('users.id', '<', after.id)]),
        ]),
      );
    }
    return query.orderBy('account_locks.locked_at', 'desc').orderBy('users.id', 'desc').limit(page.limit).execute();
  }

  /** Inserts a user; returns undefined when the email is already taken (no read-then-write race). */
  async insert(email: string, passwordHash: string, role: Role): Promise<UserRow | undefined> {
    return this.db
      .insertInto('users')
      .values({ email, password_hash: passwordHash, role })
      .onConflict((oc) => oc.column('email').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Sets a new password and moves the account to its next authorization version, which it returns,
   * only if the account is still at `checkedVersion` (the one read with the password just checked);
   * undefined otherwise: the password, role or status changed meanwhile.
   */
  async updatePassword(id: string, passwordHash: string, checkedVersion: number): Promise<number | undefined> {
    const row = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: new Date(), auth_version: sql<number>`auth_version + 1` })
      .where('id', '=', id)
      .where('auth_version', '=', checkedVersion)
      .returning('auth_version')
      .executeTakeFirst();
    return row?.auth_version;
  }

  /** Moves the account to its next authorization version (every session ends); undefined if there is no such account. */
  async bumpAuthVersion(id: string): Promise<number | undefined> {
    const row = await this.db
      .updateTable('users')
      .set({ auth_version: sql<number>`auth_version + 1` })
      .where('id', '=', id)
      .returning('auth_version')
      .executeTakeFirst();
    return row?.auth_version;
  }

  /**
   * Changes an account's role or status and moves it to its next authorization version, refusing
   * a change that would leave no active admin, and one by an actor who is no longer an active admin.
   * Such changes are serialised by a transaction-level advisory lock, so two admins demoting each
   * other at once cannot both succeed: the actor's token was checked when the request arrived, and
   * only here is it certain that no change committed since has taken the actor's role away.
   */
  async updateRoleOrStatus(id: string, change: { role?: Role; status?: AccountStatus }, actorId: string): Promise<GuardedUpdate> {
    return this.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${ADMIN_SET_LOCK_ID})`.execute(trx);
      const actor = await trx.selectFrom('users').select(['role', 'status']).where('id', '=', actorId).executeTakeFirst();
      if (actor?.role !== 'admin' || actor.status !== 'active') return { refused: 'not_admin' };
      const current = await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      if (!current) return { refused: 'not_found' };
      const leavesAdmins = (change.role ?? current.role) === 'admin' && (change.status ?? current.status) === 'active';
      if (current.role === 'admin' && current.status === 'active' && !leavesAdmins) {
        const others = await trx
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('role', '=', 'admin')
          .where('status', '=', 'active')
          .where('id', '!=', id)
          .executeTakeFirstOrThrow();
        if (Number(others.n) === 0) return { refused: 'last_admin' };
      }
      const updated = await trx
        .updateTable('users')
        .set({ ...change, auth_version: sql<number>`auth_version + 1` })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { updated };
    });
  }
}
