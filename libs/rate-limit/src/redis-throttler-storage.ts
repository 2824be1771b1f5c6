import type { ThrottlerStorage } from '@nestjs/throttler';

import type { RedisClient } from '@nest-hardening/redis';

import { throttlerStorageKeys } from './rate-limit.keys';
import { THROTTLER_STORAGE_INCREMENT_SCRIPT } from './scripts/throttler-storage.script';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

export interface RedisThrottlerStorageOptions {
  /** Prepended to every key this storage writes (after the client's own `keyPrefix`, if any). Default `throttler:`. */
  keyPrefix?: string;
}

/**
 * A drop-in Redis `ThrottlerStorage` for the stock `ThrottlerGuard`: the same answers as the stock
 * in-memory `ThrottlerStorageService` (sliding hit log, `blockDuration` honoured: refused for the
 * block duration from the first refused hit, not extended by hits while blocked), shared by every
 * instance of the app. Each `increment()` is one atomic script call on one cluster slot, so it
 * works on a single Redis and on a Redis Cluster alike. The client is the caller's: this storage
 * never closes it.
 *
 * @example
 * ThrottlerModule.forRootAsync({
 *   inject: [REDIS_CLIENT],
 *   useFactory: (redis: RedisClient) => ({
 *     throttlers: [{ limit: 10, ttl: seconds(60), blockDuration: minutes(5) }],
 *     storage: new RedisThrottlerStorage(redis),
 *   }),
 * })
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: RedisClient,
    options: RedisThrottlerStorageOptions = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? 'throttler:';
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const { record, hits } = throttlerStorageKeys(this.keyPrefix, key, throttlerName);
    const [totalHits, timeToExpire, isBlocked, timeToBlockExpire] = await THROTTLER_STORAGE_INCREMENT_SCRIPT.run<number[]>(
      this.redis,
      [record, hits],
      [ttl, limit, blockDuration],
    );
    return { totalHits, timeToExpire, isBlocked: isBlocked === 1, timeToBlockExpire };
  }
}
