import { Inject } from '@nestjs/common';

import { REDIS_CLIENT, REDIS_SUBSCRIBER } from './redis.constants';

export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);
export const InjectRedisSubscriber = (): ParameterDecorator => Inject(REDIS_SUBSCRIBER);
