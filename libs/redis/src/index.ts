export * from './inject-redis.decorator';
export * from './redis-client.factory';
export * from './redis-client.type';
export * from './redis-script';
export * from './redis-unavailable.error';
export * from './redis.constants';
export { REDIS_MODULE_OPTIONS, type RedisModuleOptions } from './redis.module-definition';
export * from './redis.module';
export * from './redis-failure';
