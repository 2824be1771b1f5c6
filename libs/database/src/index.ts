export * from './database-unavailable.error';
export * from './database.constants';
export { DATABASE_MODULE_OPTIONS, type DatabaseModuleOptions } from './database.module-definition';
export * from './database.module';
export * from './migration-failed.error';
export * from './migrations-pending.error';
export * from './migrations';
export * from './postgres-failure';
