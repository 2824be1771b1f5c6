export * from './free-port';
export * from './test-redis';
export * from './redis-server';
export * from './redis-cluster';
export * from './sentry-receiver';
export * from './smtp-receiver';
