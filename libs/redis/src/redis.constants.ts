/** Injection token of the shared ioredis client (a `Redis` or a `Cluster`). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
/** Injection token of the dedicated subscriber connection (pub/sub needs a connection of its own). */
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');
