import { Module } from '@nestjs/common';
import { Kysely, PostgresDialect } from 'kysely';
import { Pool } from 'pg';
import { KYSELY, PG_POOL } from './database.constants';
import { ConfigurableModuleClass, DATABASE_MODULE_OPTIONS, type DatabaseModuleOptions } from './database.module-definition';
import { DatabaseLifecycle } from './database.lifecycle';
import type { Database } from './database.schema';

/**
 * Postgres through `pg` with Kysely as the typed query layer.
 *
 * @example
 * DatabaseModule.forRoot({ url: 'postgres://postgres@127.0.0.1:5432/auth', migrateOnStart: true, isGlobal: true })
 */
@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [DATABASE_MODULE_OPTIONS],
      useFactory: (options: DatabaseModuleOptions) =>
        new Pool({
          connectionString: options.url,
          max: options.poolSize ?? 10,
          connectionTimeoutMillis: 3000,
          idleTimeoutMillis: 30_000,
        }),
    },
    {
      provide: KYSELY,
      inject: [PG_POOL],
      useFactory: (pool: Pool) => new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    },
    DatabaseLifecycle,
  ],
  exports: [KYSELY, PG_POOL],
})
export class DatabaseModule extends ConfigurableModuleClass {}
