import { Inject, Injectable } from '@nestjs/common';
import type { Kysely, Selectable } from 'kysely';
import { type Database, KYSELY, type UsersTable } from '@lib/database';
import type { Role } from '@lib/auth';

export type UserRow = Selectable<UsersTable>;

/** Postgres access for accounts; the only place that knows the users table. */
@Injectable()
export class UsersRepository {
  constructor(@Inject(KYSELY) private readonly db: Kysely<Database>) {}

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
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

  async updatePassword(id: string, passwordHash: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: passwordHash, password_changed_at: new Date() }).where('id', '=', id).execute();
  }
}
