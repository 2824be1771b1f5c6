import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Pool } from 'pg';

import { DatabaseUnavailableError } from './database-unavailable.error';
import { KYSELY, PG_POOL } from './database.constants';
import { DATABASE_MODULE_OPTIONS, type DatabaseModuleOptions } from './database.module-definition';
import { MigrationFailedError } from './migration-failed.error';
import { ensureDatabase, runMigrations } from './migrations';

@Injectable()
export class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');

  constructor(
    @Inject(DATABASE_MODULE_OPTIONS) private readonly options: DatabaseModuleOptions,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(KYSELY) private readonly db: Kysely<object>,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      if (this.options.migrateOnStart) {
        await ensureDatabase(this.options.url);
        const applied = await runMigrations(this.options.url, this.options.migrationsDir);
        if (applied.length > 0) this.logger.log(`applied migrations: ${applied.join(', ')}`);
      }
      await this.pool.query('SELECT 1');
    } catch (error) {
      await this.pool.end().catch(() => undefined);
      if (error instanceof MigrationFailedError) throw error;
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
