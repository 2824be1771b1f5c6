import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Client, type Pool } from 'pg';

import { MigrationFailedError } from './migration-failed.error';

// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK_ID = 727_001;

/**
 * A client for one migration run. Connecting gives up after 3 s, as the pool does: a server that
 * accepts but never answers must fail the start (exit 1), not hang it. Statements get no timeout,
 * since a migration or the wait for another process's migration may take long.
 */
function migrationClient(connectionString: string): Client {
  return new Client({ connectionString, connectionTimeoutMillis: 3000, keepAlive: true });
}

/** SQLSTATE of a connection to a database that does not exist. */
const INVALID_CATALOG_NAME = '3D000';

/**
 * Creates the database named in `url` when it does not exist yet, connecting to `postgres` for that.
 * A database that exists is found by connecting to it: a pg_hba.conf written for the app's database
 * (or a pooler that serves only it) admits nothing else, and the start must not depend on a
 * database it does not need.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return;
  const direct = migrationClient(url);
  const exists = await direct.connect().then(
    () => true,
    (error: { code?: string }) => {
      if (error.code !== INVALID_CATALOG_NAME) throw error;
      return false;
    },
  );
  if (exists) return direct.end();
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = migrationClient(admin.toString());
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      // Identifiers cannot be bound as parameters; quote it the way Postgres does.
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // Created concurrently by another process (both services starting on a new database): 42P04
        // if it was created before this statement began, a unique violation of pg_database's name
        // index if both statements ran at once.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * Applies every `*.sql` file in `dir` not yet recorded in `schema_migrations`, in file-name order,
 * each in its own transaction. A session-level advisory lock serialises concurrent migrators. Each
 * service owns its folder; file names are unique across services, so services may share a database.
 * Returns the names applied by this call.
 */
export async function runMigrations(url: string, dir: string): Promise<string[]> {
  const files = await migrationFiles(dir);
  const client = migrationClient(url);
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(join(dir, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new MigrationFailedError(file, error);
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await client.end();
  }
  return applied;
}

/** The migrations in `dir`: its `*.sql` files, in the order they are applied. */
export async function migrationFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
}

/**
 * The migrations of `dir` not recorded in `schema_migrations` (all of them on a database no
 * migration has reached), read through `db`; none when `dir` holds no migration.
 */
export async function pendingMigrations(db: Pool | Client, dir: string): Promise<string[]> {
  const files = await migrationFiles(dir);
  if (files.length === 0) return [];
  const { rows: table } = await db.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!table[0].present) return files;
  const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations WHERE name = ANY($1)', [files]);
  const applied = new Set(rows.map((row) => row.name));
  return files.filter((file) => !applied.has(file));
}
