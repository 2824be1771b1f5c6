import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

import { Client } from 'pg';

import { ensureDatabase, runMigrations } from '@nest-hardening/database';

/** Every service's migrations: the test database holds all tables, as a shared development database does. */
const MIGRATION_DIRS = ['apps/auth-service/migrations', 'apps/profile-service/migrations'].map((dir) => resolve(__dirname, '../..', dir));

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (terminating any connection still open to it). */
  drop(): Promise<void>;
}

/** A fresh database (`test_<random>`) with every migration applied, on the shared test Postgres. */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const name = `test_${label.replace(/[^a-z0-9_]/gi, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  for (const dir of MIGRATION_DIRS) await runMigrations(url.toString(), dir);
  return {
    url: url.toString(),
    name,
    async drop() {
      const admin = new Client({ connectionString: TEST_POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
