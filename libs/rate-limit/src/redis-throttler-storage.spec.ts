import { Controller, Get } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ThrottlerGuard, ThrottlerModule, ThrottlerStorageService } from '@nestjs/throttler';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import request from 'supertest';

import { DependencyUnavailableError, DomainErrorFilter } from '@nest-hardening/errors';
import { ScriptDeadlines } from '@nest-hardening/redis';
import { createTestRedis, fuzzParameters, startRedisServer, type TestRedis } from '@nest-hardening/testing';

import { throttlerStorageKeys } from './rate-limit.keys';
import { RedisThrottlerStorage } from './redis-throttler-storage';

type StorageRecord = Awaited<ReturnType<RedisThrottlerStorage['increment']>>;

interface Increment {
  key: string;
  name: string;
  ttl: number;
  limit: number;
  blockDuration: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The stock storage and ours agree: counts and the block flag exactly; the seconds fields within
 * one second (two clocks, read a few ms apart, may round differently). With a block duration and
 * no block, the stock `timeToBlockExpire` is the time since an old block end (or since the epoch
 * once its sweep dropped the record): only its sign means something, and only that is compared.
 */
function expectSameRecord(ours: StorageRecord, stock: StorageRecord, step: string, blockDuration: number): void {
  const context = `${step}: ours ${JSON.stringify(ours)}, stock ${JSON.stringify(stock)}`;
  expect({ step: context, totalHits: ours.totalHits, isBlocked: ours.isBlocked }).toEqual({
    step: context,
    totalHits: stock.totalHits,
    isBlocked: stock.isBlocked,
  });
  expect({ step: context, near: Math.abs(ours.timeToExpire - stock.timeToExpire) <= 1 }).toEqual({ step: context, near: true });
  if (stock.isBlocked || blockDuration <= 0) {
    expect({ step: context, near: Math.abs(ours.timeToBlockExpire - stock.timeToBlockExpire) <= 1 }).toEqual({ step: context, near: true });
  } else {
    expect({ step: context, notPositive: ours.timeToBlockExpire <= 0 }).toEqual({ step: context, notPositive: true });
  }
}

describe('RedisThrottlerStorage against the stock ThrottlerStorageService (real Redis)', () => {
  let redis: TestRedis;
  const stocks: ThrottlerStorageService[] = [];
  let run = 0;

  beforeAll(async () => {
    redis = await createTestRedis('throttler-storage');
  });
  afterAll(async () => {
    for (const stock of stocks) stock.onApplicationShutdown();
    await redis.cleanup();
  });

  /** A fresh pair of storages: ours under its own key prefix, and a new stock one. */
  function pair(): { ours: RedisThrottlerStorage; stock: ThrottlerStorageService; keyPrefix: string } {
    const keyPrefix = `run${++run}:`;
    const stock = new ThrottlerStorageService();
    stocks.push(stock);
    return { ours: new RedisThrottlerStorage(redis.client, { keyPrefix }), stock, keyPrefix };
  }

  async function both(storages: ReturnType<typeof pair>, step: string, op: Increment): Promise<StorageRecord> {
    const args = [op.key, op.ttl, op.limit, op.blockDuration, op.name] as const;
    const [ours, stock] = await Promise.all([storages.ours.increment(...args), storages.stock.increment(...args)]);
    expectSameRecord(ours, stock, step, op.blockDuration);
    return ours;
  }

  it('answers every random sequence of increments as the stock storage does (limits, names, blocks, no block)', async () => {
    // Windows and blocks of 10 s or more: no hit or block ends during a sequence, so only the
    // stock's bookkeeping (per-name counts, the record and block flag a key's names share) is compared.
    const increment = fc.record({
      key: fc.constantFrom('k1', 'k2', 'k{3}:x'),
      name: fc.constantFrom('default', 'short', 'long'),
      ttl: fc.constantFrom(10_000, 20_000, 60_000),
      limit: fc.integer({ min: 0, max: 4 }),
      blockDuration: fc.constantFrom(0, 10_000, 30_000),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(increment, { minLength: 1, maxLength: 25 }), async (ops) => {
        const storages = pair();
        for (const [i, op] of ops.entries()) await both(storages, `#${i} ${JSON.stringify(op)}`, op);
      }),
      fuzzParameters(60),
    );
  });

  it('blocks for blockDuration, not the window, and hits while blocked do not extend the block', async () => {
    const storages = pair();
    const op = { key: 'login', name: 'default', ttl: 300, limit: 2, blockDuration: 3_000 };
    await both(storages, 'hit 1', op);
    await both(storages, 'hit 2', op);
    const blocked = await both(storages, 'hit 3 (over the limit)', op);
    expect(blocked).toMatchObject({ isBlocked: true, totalHits: 3, timeToBlockExpire: 3 });
    const blockedAt = Date.now();

    // The 300 ms window is long over, the block is not; hits now must not move its end.
    await sleep(1_000);
    for (let i = 0; i < 3; i++) {
      const during = await both(storages, `hit while blocked ${i}`, op);
      expect(during.isBlocked).toBe(true);
      expect(during.timeToBlockExpire).toBeLessThanOrEqual(2);
    }

    await sleep(Math.max(0, blockedAt + 3_500 - Date.now()));
    const after = await both(storages, 'first hit after the block', op);
    expect(after).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('counts each hit until its own expiry without a block (sliding window), like the stock storage', async () => {
    const storages = pair();
    const op = { key: 'api', name: 'default', ttl: 2_000, limit: 2, blockDuration: 0 };
    await both(storages, 'hit 1', op);
    await sleep(1_000);
    await both(storages, 'hit 2', op);
    const refused = await both(storages, 'hit 3', op);
    expect(refused).toMatchObject({ isBlocked: true, totalHits: 3 });
    // Hit 1 has expired, hit 2 has not: one more hit fits, the next is refused again.
    await sleep(1_200);
    expect(await both(storages, 'hit 4', op)).toMatchObject({ isBlocked: false, totalHits: 2 });
    expect(await both(storages, 'hit 5', op)).toMatchObject({ isBlocked: true, totalHits: 3 });
  });

  it('keeps a key only while the stock storage would: its keys expire once window, hits and block are over', async () => {
    const { ours, keyPrefix } = pair();
    const { record, hits } = throttlerStorageKeys(keyPrefix, 'short-lived', 'default');
    await ours.increment('short-lived', 200, 1, 0, 'default');
    expect(await redis.client.exists(record, hits)).toBe(2);
    expect(await redis.client.pttl(record)).toBeLessThanOrEqual(200);
    await ours.increment('blocked', 200, 0, 60_000, 'default');
    const blocked = throttlerStorageKeys(keyPrefix, 'blocked', 'default');
    expect(await redis.client.pttl(blocked.record)).toBeGreaterThan(59_000);
  });
});

describe('RedisThrottlerStorage while Redis stalls past the command timeout (own redis-server)', () => {
  it('does not count a hit whose increment timed out and that Redis ran afterwards', async () => {
    const server = await startRedisServer();
    const redis = new Redis(server.url, { commandTimeout: 300, maxRetriesPerRequest: 0 });
    try {
      const storage = new RedisThrottlerStorage(redis);
      // A first call reads Redis's clock (a process's very first call carries no deadline).
      expect((await storage.increment('stalled', 60_000, 10, 0, 'default')).totalHits).toBe(1);
      await server.stalled(() =>
        expect(storage.increment('stalled', 60_000, 10, 0, 'default')).rejects.toBeInstanceOf(DependencyUnavailableError),
      );
      await sleep(200); // Redis runs the timed-out call now, after its deadline
      // The stock guard answered that request with an error: it is not a hit.
      expect((await storage.increment('stalled', 60_000, 10, 0, 'default')).totalHits).toBe(2);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});

@Controller()
class HelloController {
  @Get('hello') hello() {
    return { hello: 'world' };
  }
}

describe('RedisThrottlerStorage under the stock ThrottlerGuard when Redis keeps running its calls late', () => {
  // Redis ran the call past its deadline, and again with a fresh reading of its clock (a clock that
  // stepped forward): it changed nothing, so the request was decided without Redis, like a timeout.
  it('answers 503 with Retry-After, as for a timeout, not 500', async () => {
    const redis = await createTestRedis('throttler-storage-late');
    const late = jest.spyOn(ScriptDeadlines.prototype, 'deadline').mockReturnValue(1);
    const moduleRef = await Test.createTestingModule({
      imports: [ThrottlerModule.forRoot({ throttlers: [{ limit: 10, ttl: 60_000 }], storage: new RedisThrottlerStorage(redis.client) })],
      controllers: [HelloController],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new DomainErrorFilter());
    await app.init();
    try {
      const response = await request(app.getHttpServer()).get('/hello');
      expect(late).toHaveBeenCalledTimes(2);
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBeDefined();
    } finally {
      late.mockRestore();
      await app.close();
      await redis.cleanup();
    }
  });
});
