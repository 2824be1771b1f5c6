import type { Cluster, Redis } from 'ioredis';

/** Everything in this project works against a single Redis and a Redis Cluster alike. */
export type RedisClient = Redis | Cluster;
