import { Logger, Module } from '@nestjs/common';
import { Kysely, PostgresDialect } from 'kysely';
import { Pool } from 'pg';

import { failureReason } from '@nest-hardening/errors';

import { KYSELY, PG_POOL } from './database.constants';
import { DatabaseLifecycle } from './database.lifecycle';
import { ConfigurableModuleClass, DATABASE_MODULE_OPTIONS, type DatabaseModuleOptions } from './database.module-definition';
import { translatingPool } from './postgres-failure';

/**
 * Postgres through `pg` with Kysely as the query layer. Each service declares its own tables and
 * injects `@Inject(KYSELY) db: Kysely<ItsDatabase>`.
 *
 * @example
 * DatabaseModule.forRoot({ url: 'postgres://postgres@127.0.0.1:5432/auth', migrateOnStart: true, migrationsDir: 'migrations', isGlobal: true })
 */
const logger = new Logger('Database');

function createPool(options: DatabaseModuleOptions): Pool {
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    query_timeout: options.queryTimeoutMs ?? 5000,
    // A peer that vanished without closing (a host gone) is noticed on idle connections too.
    keepAlive: true,
  });
  // A connection killed by the server (restart, failover, pg_terminate_backend) emits 'error'.
  // The pool listens only while the client is idle; while it is lent out nobody does, and an
  // unhandled 'error' event would crash the process. The query in flight still fails on its own
  // (answered 503), and the pool discards the broken client when it is released.
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn(`Postgres connection dropped: ${failureReason(error)}`));
  });
  // Idle clients report here; the pool replaces them by itself.
  pool.on('error', (error) => logger.warn(`idle Postgres connection dropped: ${failureReason(error)}`));
  return pool;
}

@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [DATABASE_MODULE_OPTIONS],
      useFactory: (options: DatabaseModuleOptions) => createPool(options),
    },
    {
      provide: KYSELY,
      inject: [PG_POOL],
      useFactory: (pool: Pool) => new Kysely<object>({ dialect: new PostgresDialect({ pool: translatingPool(pool) }) }),
    },
    DatabaseLifecycle,
  ],
  exports: [KYSELY, PG_POOL],
})
export class DatabaseModule extends ConfigurableModuleClass {}
