import { Module } from '@nestjs/common';

import { createRedisClient } from './redis-client.factory';
import { REDIS_CLIENT, REDIS_SUBSCRIBER } from './redis.constants';
import { RedisLifecycle } from './redis.lifecycle';
import { ConfigurableModuleClass, REDIS_MODULE_OPTIONS, type RedisModuleOptions } from './redis.module-definition';

/**
 * One ioredis client (single node or cluster) and one subscriber connection per application.
 *
 * @example
 * RedisModule.forRoot({ url: 'redis://127.0.0.1:6379', keyPrefix: 'sec:', commandTimeoutMs: 500, isGlobal: true })
 */
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [REDIS_MODULE_OPTIONS],
      useFactory: (options: RedisModuleOptions) => createRedisClient(options, 'main'),
    },
    {
      provide: REDIS_SUBSCRIBER,
      inject: [REDIS_MODULE_OPTIONS],
      useFactory: (options: RedisModuleOptions) => createRedisClient(options, 'subscriber'),
    },
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT, REDIS_SUBSCRIBER, REDIS_MODULE_OPTIONS],
})
export class RedisModule extends ConfigurableModuleClass {}
