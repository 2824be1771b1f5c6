export { type HealthModuleOptions } from './health.module-definition';
export * from './health.module';
