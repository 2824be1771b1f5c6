import { Inject, Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';

import { KYSELY } from '@nest-hardening/database';

import type { ProfileDatabase } from './profile.schema';

export interface ProfileRecord {
  userId: string;
  displayName: string | null;
  updatedAt: Date | null;
}

@Injectable()
export class ProfileRepository {
  constructor(@Inject(KYSELY) private readonly db: Kysely<ProfileDatabase>) {}

  async find(userId: string): Promise<ProfileRecord> {
    const row = await this.db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return { userId, displayName: row?.display_name ?? null, updatedAt: row?.updated_at ?? null };
  }

  async upsert(userId: string, displayName: string | null): Promise<ProfileRecord> {
    const row = await this.db
      .insertInto('profiles')
      .values({ user_id: userId, display_name: displayName, updated_at: new Date() })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ display_name: displayName, updated_at: new Date() }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return { userId, displayName: row.display_name, updatedAt: row.updated_at };
  }
}
