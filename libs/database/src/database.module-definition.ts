import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface DatabaseModuleOptions {
  /** `postgres://user[:password]@host:port/db`; the database is created if it does not exist. */
  url: string;
  /** Apply pending migrations at start-up (under an advisory lock, so several processes may start at once). */
  migrateOnStart: boolean;
  /** The service's own folder of `NNNN_name.sql` files (names unique across services sharing a database). */
  migrationsDir: string;
  poolSize?: number;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: DATABASE_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<DatabaseModuleOptions>({ moduleName: 'Database' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
