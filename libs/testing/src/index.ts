export * from './free-port';
export * from './test-redis';
export * from './redis-server';
export * from './redis-cluster';
