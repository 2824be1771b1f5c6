import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of auth-service's tables, created by `apps/auth-service/migrations/*.sql`. */
export interface UsersTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  role: ColumnType<'user' | 'admin', 'user' | 'admin' | undefined, 'user' | 'admin'>;
  created_at: ColumnType<Date, never, never>;
  password_changed_at: ColumnType<Date, Date | undefined, Date>;
  auth_version: ColumnType<number, never, number>;
  status: ColumnType<'active' | 'disabled', never, 'active' | 'disabled'>;
  last_login_at: ColumnType<Date | null, never, Date>;
}

export interface SecurityEventsTable {
  id: Generated<string>;
  at: Date;
  type: string;
  account_id: string | null;
  actor_id: string | null;
  network: string | null;
  device: string | null;
  details: ColumnType<Record<string, unknown>, string, never>;
}

export interface AccountLocksTable {
  account_id: string;
  locked_at: Date;
  locked_until: Date;
}

export interface AuthDatabase {
  users: UsersTable;
  security_events: SecurityEventsTable;
  account_locks: AccountLocksTable;
}
