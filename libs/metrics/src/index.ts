export * from './http-metrics.middleware';
export * from './metrics-token.guard';
export * from './metrics.controller';
export * from './metrics.errors';
export { METRICS_MODULE_OPTIONS, type MetricsModuleOptions } from './metrics.module-definition';
export * from './metrics.module';
export * from './metrics.registry';
export * from './redis-metrics.collector';
export * from './security-metrics.collector';
