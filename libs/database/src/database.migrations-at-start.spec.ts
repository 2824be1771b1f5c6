import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Test } from '@nestjs/testing';
import { Client } from 'pg';

import { DatabaseModule } from './database.module';
import { ensureDatabase, runMigrations } from './migrations';

const POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * What an app finds at start-up when its migrations stopped half-way: one that migrates refuses to
 * start with the migration's error and leaves the schema as it was; one whose migrations are applied
 * by a separate step (`main.js migrate`, `npm start`, a deployment's job) refuses to start until they
 * are, instead of serving every request against a schema its queries do not fit.
 */
describe('DatabaseModule on a database whose last migration failed', () => {
  const name = `test_migstart_${randomBytes(4).toString('hex')}`;
  const url = Object.assign(new URL(POSTGRES), { pathname: `/${name}` }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  let db: Client;

  const start = async (migrateOnStart: boolean, migrationsDir = dir) => {
    const moduleRef = await Test.createTestingModule({
      imports: [DatabaseModule.forRoot({ url, migrateOnStart, migrationsDir })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.close();
  };
  const tables = async () =>
    (await db.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'migstart_%' ORDER BY 1")).rows.map(
      (row) => row.name,
    );

  beforeAll(async () => {
    await ensureDatabase(url);
    db = new Client({ connectionString: url });
    await db.connect();
    writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE migstart_first (id int);');
    // Fails after its first statement: the table it created must not stay behind.
    writeFileSync(join(dir, '0002_second.sql'), 'CREATE TABLE migstart_second (id int);\nSELECT 1 / 0;');
  });

  afterAll(async () => {
    await db?.end();
    const admin = new Client({ connectionString: POSTGRES });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => admin.end());
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start with the failed migration named, leaving the schema as that migration found it', async () => {
    await expect(start(true)).rejects.toThrow('migration 0002_second.sql failed: division by zero');
    expect(await tables()).toEqual(['migstart_first']);
    await expect(runMigrations(url, dir)).rejects.toThrow('migration 0002_second.sql failed');
    expect(await tables()).toEqual(['migstart_first']);
  });

  it('refuses to start without migrating while a migration of its folder is not applied, and starts once it is', async () => {
    await expect(start(false)).rejects.toThrow(/migrations not applied: 0002_second\.sql\b/);

    writeFileSync(join(dir, '0002_second.sql'), 'CREATE TABLE migstart_second (id int);');
    expect(await runMigrations(url, dir)).toEqual(['0002_second.sql']);
    await expect(start(false)).resolves.toBeUndefined();
    expect(await tables()).toEqual(['migstart_first', 'migstart_second']);
  });

  // Started from another working directory than the one the folder is resolved against.
  it('refuses to start naming a migrations folder it cannot read, not as Postgres being unreachable', async () => {
    for (const migrateOnStart of [true, false]) {
      const failure = await start(migrateOnStart, join(dir, 'absent')).catch((error: Error) => error.message);
      expect(failure).toContain(join(dir, 'absent'));
      expect(failure).not.toContain('not reachable');
    }
  });
});
