import type { ColumnType } from 'kysely';

/** Kysely's view of profile-service's table, created by `apps/profile-service/migrations/*.sql`. */
export interface ProfilesTable {
  user_id: string;
  display_name: string | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ProfileDatabase {
  profiles: ProfilesTable;
}
