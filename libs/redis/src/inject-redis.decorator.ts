import { Inject } from '@nestjs/common';

import { REDIS_CLIENT, REDIS_SUBSCRIBER } from './redis.constants';

export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);
/**
 * The application's connection for pub/sub. On a single Redis it does not re-subscribe by itself
 * after a reconnect: subscribe again on every `ready` event, and handle that call's rejection.
 * (A Redis Cluster's subscriber connection re-subscribes by itself; subscribing again is harmless.)
 */
export const InjectRedisSubscriber = (): ParameterDecorator => Inject(REDIS_SUBSCRIBER);
