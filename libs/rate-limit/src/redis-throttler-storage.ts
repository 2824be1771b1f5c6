import type { ThrottlerStorage } from '@nestjs/throttler';

import { ScriptDeadlines, type RedisClient } from '@nest-hardening/redis';

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
  /** A call Redis runs after its caller gave up (a command timeout) changes nothing (docs/decisions/009). */
  private readonly deadlines: ScriptDeadlines;

  constructor(redis: RedisClient, options: RedisThrottlerStorageOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'throttler:';
    this.deadlines = ScriptDeadlines.of(redis);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const { record, hits } = throttlerStorageKeys(this.keyPrefix, key, throttlerName);
    const [totalHits, timeToExpire, isBlocked, timeToBlockExpire] = await this.deadlines.run<number[]>(
      THROTTLER_STORAGE_INCREMENT_SCRIPT,
      this.deadlines.nodeOfKey(record),
      [record, hits],
      [ttl, limit, blockDuration],
    );
    return { totalHits, timeToExpire, isBlocked: isBlocked === 1, timeToBlockExpire };
  }
}
