import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface DatabaseModuleOptions {
  /** `postgres://user[:password]@host:port/db`; the database is created if it does not exist. */
  url: string;
  /** Apply pending migrations at start-up (under an advisory lock, so several processes may start at once). */
  migrateOnStart: boolean;
  /** The service's own folder of `NNNN_name.sql` files (names unique across services sharing a database). */
  migrationsDir: string;
  poolSize?: number;
  /**
   * A query not answered within this time fails, answered 503 (default 5000 ms), and its connection
   * is closed: a Postgres that stops answering (partition, frozen host) must not hold requests and
   * pooled connections forever. The statement is cancelled on the server as it is given up (a
   * CancelRequest), so a write answered 503 is not applied when a lock it waited for is released.
   * For a server-side limit on lock waits as well, set `statement_timeout` on the role (a startup
   * parameter would be refused by PgBouncer).
   */
  queryTimeoutMs?: number;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: DATABASE_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<DatabaseModuleOptions>({ moduleName: 'Database' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
