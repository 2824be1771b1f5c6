import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Pool } from 'pg';

import { DatabaseUnavailableError } from './database-unavailable.error';
import { KYSELY, PG_POOL } from './database.constants';
import { DATABASE_MODULE_OPTIONS, type DatabaseModuleOptions } from './database.module-definition';
import { MigrationFailedError } from './migration-failed.error';
import { ensureDatabase, migrationFiles, pendingMigrations, runMigrations } from './migrations';
import { MigrationsPendingError } from './migrations-pending.error';

@Injectable()
export class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');

  constructor(
    @Inject(DATABASE_MODULE_OPTIONS) private readonly options: DatabaseModuleOptions,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(KYSELY) private readonly db: Kysely<object>,
  ) {}

  async onModuleInit(): Promise<void> {
    // A folder that cannot be read is a deployment's mistake, not Postgres being unreachable: its
    // own error names the path (the working directory must be the repository root, or /app in the image).
    await migrationFiles(this.options.migrationsDir);
    try {
      if (this.options.migrateOnStart) {
        await ensureDatabase(this.options.url);
        const applied = await runMigrations(this.options.url, this.options.migrationsDir);
        if (applied.length > 0) this.logger.log(`applied migrations: ${applied.join(', ')}`);
      }
      await this.pool.query('SELECT 1');
      // Applied by a separate step (`main.js migrate`, a deployment's job) that may have failed or
      // not run yet: serving on the older schema would answer 500 to whatever needs the newer one.
      if (!this.options.migrateOnStart) {
        const pending = await pendingMigrations(this.pool, this.options.migrationsDir);
        if (pending.length > 0) throw new MigrationsPendingError(pending);
      }
    } catch (error) {
      await this.pool.end().catch(() => undefined);
      if (error instanceof MigrationFailedError || error instanceof MigrationsPendingError) throw error;
      throw new DatabaseUnavailableError(this.options.url, error);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy().catch(() => undefined);
    // Kysely ends the pool only if it ever ran a query; the start-up check and readiness use the
    // pool directly, and an idle connection they left would hold the process for the idle timeout.
    if (!this.pool.ending) await this.pool.end().catch(() => undefined);
  }
}
