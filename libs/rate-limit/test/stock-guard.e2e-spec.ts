import type { INestApplication } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

import { RedisThrottlerStorage, throttlerStorageKeys } from '@nest-hardening/rate-limit';
import { createTestRedis, deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix, type TestRedis } from '@nest-hardening/testing';

import {
  AppController,
  BlockController,
  CONTROLLER_THROTTLERS,
  DefaultController,
  FunctionOverridesThrottlerController,
  LimitController,
  MULTI_THROTTLERS,
  MultiThrottlerController,
  OVERRIDES_THROTTLERS,
  startAsyncConfiguredApp,
  startStockGuardApp,
  TENANT_THROTTLERS,
  TenantController,
  TenantThrottlerGuard,
  ThrottleTestController,
} from './stock-guard-app';

type StartArgs = Parameters<typeof startStockGuardApp> extends [AbstractHttpAdapter, ...infer Rest] ? Rest : never;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECONDS = /^\d+$/;

interface Reply {
  status: number;
  body: Record<string, unknown>;
  header(name: string): string | null;
}

async function call(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { method, headers });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, header: (name) => res.headers.get(name) };
}

/** Sleeps until `ms` after `since` (a Date.now()), so later steps never start early under load. */
const sleepUntil = (since: number, ms: number) => sleep(Math.max(0, since + ms - Date.now()));

describe.each([
  { adapterName: 'Express', createAdapter: (): AbstractHttpAdapter => new ExpressAdapter() },
  { adapterName: 'Fastify', createAdapter: (): AbstractHttpAdapter => new FastifyAdapter() },
])('stock ThrottlerGuard over RedisThrottlerStorage on $adapterName', ({ createAdapter }) => {
  let redis: TestRedis;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    redis = await createTestRedis('stock-guard');
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await redis.cleanup();
  });

  async function start(...args: StartArgs): Promise<string> {
    const { app, url } = await startStockGuardApp(createAdapter(), ...args);
    apps.push(app);
    return url;
  }

  describe('limits, overrides, skips and blocks (upstream test/app)', () => {
    let url: string;
    beforeAll(async () => {
      const storage = new RedisThrottlerStorage(redis.client, { keyPrefix: 'controllers:' });
      url = await start(CONTROLLER_THROTTLERS, storage, [
        AppController,
        DefaultController,
        LimitController,
        BlockController,
        ThrottleTestController,
      ]);
    });

    it('@SkipThrottle() and ignoreUserAgents leave a route unthrottled, without headers', async () => {
      for (let i = 0; i < 4; i++) {
        const ignored = await call(`${url}/ignored`);
        expect(ignored.body).toEqual({ ignored: true });
        expect(ignored.header('x-ratelimit-limit')).toBeNull();
        const agent = await call(`${url}/ignore-user-agents`, 'GET', { 'user-agent': 'throttler-test/0.0.0' });
        expect(agent.body).toEqual({ ignored: true });
        expect(agent.header('x-ratelimit-limit')).toBeNull();
      }
    });

    it('a class-level @Throttle sets the limit and the X-RateLimit headers', async () => {
      const response = await call(`${url}/`);
      expect(response.body).toEqual({ success: true });
      expect(response.header('x-ratelimit-limit')).toBe('2');
      expect(response.header('x-ratelimit-remaining')).toBe('1');
      expect(response.header('x-ratelimit-reset')).toBe('10');
    });

    it.each([
      { path: '/limit', limit: 2, blockDuration: 1_500 },
      { path: '/limit/higher', limit: 5, blockDuration: 2_000 },
      { path: '/default', limit: 5, blockDuration: 1_500 },
    ])('$path: $limit requests, then 429 for the block duration only, then a fresh budget', async ({ path, limit, blockDuration }) => {
      for (let i = 0; i < limit; i++) {
        const response = await call(url + path);
        expect(response.body).toEqual({ success: true });
        expect(response.header('x-ratelimit-limit')).toBe(String(limit));
        expect(response.header('x-ratelimit-remaining')).toBe(String(limit - (i + 1)));
        expect(response.header('x-ratelimit-reset')).toMatch(SECONDS);
      }
      const refused = await call(url + path);
      const blockedAt = Date.now();
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ statusCode: 429, message: expect.stringMatching(/ThrottlerException/) });
      expect(refused.header('retry-after')).toBe(String(Math.ceil(blockDuration / 1000)));
      // The window is a minute: only the block's end lets the client back in, with a fresh count.
      await sleepUntil(blockedAt, blockDuration + 300);
      const response = await call(url + path);
      expect(response.status).toBe(200);
      expect(response.header('x-ratelimit-remaining')).toBe(String(limit - 1));
    });

    it('a block longer than the window holds after the window ends, and hits while blocked do not extend it', async () => {
      expect((await call(`${url}/block`)).status).toBe(200);
      const refused = await call(`${url}/block`);
      const blockedAt = Date.now();
      expect(refused.status).toBe(429);
      expect(refused.header('retry-after')).toBe('3');

      // The 0.5 s window is over; the block (3 s) is not, and these hits must not push its end.
      await sleepUntil(blockedAt, 1_000);
      for (let i = 0; i < 3; i++) {
        const during = await call(`${url}/block`);
        expect(during.status).toBe(429);
        expect(Number(during.header('retry-after'))).toBeLessThanOrEqual(2);
      }

      await sleepUntil(blockedAt, 3_500);
      expect((await call(`${url}/block`)).status).toBe(200);
    });

    it('POST with limit 1 per second: admitted again once its hit expired, then blocked', async () => {
      expect((await call(`${url}/test/throttle`, 'POST')).status).toBe(201);
      await sleep(1_100);
      expect((await call(`${url}/test/throttle`, 'POST')).status).toBe(201);
      expect((await call(`${url}/test/throttle`, 'POST')).status).toBe(429);
      expect((await call(`${url}/test/throttle`, 'POST')).status).toBe(429);
    });
  });

  describe('multiple named throttlers (upstream test/multi)', () => {
    let url: string;
    beforeAll(async () => {
      url = await start(MULTI_THROTTLERS, new RedisThrottlerStorage(redis.client, { keyPrefix: 'multi:' }), [MultiThrottlerController]);
    });

    it('charges every named throttler, each with its own suffixed headers, and the first refusal stops the rest', async () => {
      const first = await call(`${url}/multi`);
      expect(first.status).toBe(200);
      expect(first.header('x-ratelimit-limit-short')).toBe('1');
      expect(first.header('x-ratelimit-remaining-short')).toBe('0');
      expect(first.header('x-ratelimit-remaining')).toBe('1');
      expect(first.header('x-ratelimit-limit-long')).toBe('5');
      expect(first.header('x-ratelimit-remaining-long')).toBe('4');

      const short = await call(`${url}/multi`);
      expect(short.status).toBe(429);
      expect(short.header('retry-after-short')).toMatch(SECONDS);
      const shortAt = Date.now();

      await sleepUntil(shortAt, 1_100);
      const second = await call(`${url}/multi`);
      expect(second.status).toBe(200);
      expect(second.header('x-ratelimit-remaining')).toBe('0');
      // The request refused by `short` never reached `long`: it was not charged there.
      expect(second.header('x-ratelimit-remaining-long')).toBe('3');
      const secondAt = Date.now();

      await sleepUntil(secondAt, 1_100);
      const third = await call(`${url}/multi`);
      expect(third.status).toBe(429);
      expect(third.header('retry-after')).toMatch(SECONDS);
      expect(third.header('retry-after-short')).toBeNull();
    });

    it('@SkipThrottle({ short: true }) skips that throttler only', async () => {
      const first = await call(`${url}/multi/skip-short`);
      expect(first.header('x-ratelimit-remaining')).toBe('1');
      expect(first.header('x-ratelimit-remaining-short')).toBeNull();
      const second = await call(`${url}/multi/skip-short`);
      expect(second.status).toBe(200);
      expect(second.header('x-ratelimit-remaining')).toBe('0');
    });

    it('@SkipThrottle({ default: true, long: true }) leaves only the short throttler', async () => {
      const response = await call(`${url}/multi/skip-default-and-long`);
      expect(response.status).toBe(200);
      expect(response.header('x-ratelimit-remaining-short')).toBe('0');
      expect(response.header('x-ratelimit-remaining')).toBeNull();
      expect(response.header('x-ratelimit-remaining-long')).toBeNull();
    });
  });

  describe('custom trackers and key generators (upstream test/function-overrides)', () => {
    let url: string;
    beforeAll(async () => {
      url = await start(OVERRIDES_THROTTLERS, new RedisThrottlerStorage(redis.client, { keyPrefix: 'overrides:' }), [
        FunctionOverridesThrottlerController,
      ]);
    });

    it('the default key is per route', async () => {
      expect((await call(`${url}/overrides`)).header('x-ratelimit-remaining')).toBe('1');
      expect((await call(`${url}/overrides/1`)).header('x-ratelimit-remaining')).toBe('1');
      expect((await call(`${url}/overrides`)).header('x-ratelimit-remaining')).toBe('0');
      const refused = await call(`${url}/overrides`);
      const blockedAt = Date.now();
      expect(refused.status).toBe(429);
      expect(refused.header('retry-after')).toMatch(SECONDS);
      expect((await call(`${url}/overrides/1`)).header('x-ratelimit-remaining')).toBe('0');
      await sleepUntil(blockedAt, 1_300);
      const again = await call(`${url}/overrides`);
      expect(again.status).toBe(200);
      expect(again.header('x-ratelimit-remaining')).toBe('1');
    });

    it('a throttler with its own getTracker and generateKey shares one budget across routes', async () => {
      expect((await call(`${url}/overrides/custom`)).header('x-ratelimit-remaining-custom')).toBe('1');
      expect((await call(`${url}/overrides/custom/1`)).header('x-ratelimit-remaining-custom')).toBe('0');
      const refused = await call(`${url}/overrides/custom`);
      const blockedAt = Date.now();
      expect(refused.status).toBe(429);
      expect(refused.header('retry-after-custom')).toMatch(SECONDS);
      expect((await call(`${url}/overrides/custom/1`)).status).toBe(429);
      await sleepUntil(blockedAt, 1_300);
      expect((await call(`${url}/overrides/custom`)).header('x-ratelimit-remaining-custom')).toBe('1');
      expect((await call(`${url}/overrides/custom/1`)).header('x-ratelimit-remaining-custom')).toBe('0');
      const { record } = throttlerStorageKeys('overrides:', 'custom-customTrackerString', 'custom');
      expect(await redis.client.exists(record)).toBe(1);
    });
  });

  describe('a ThrottlerGuard subclass overriding getTracker and generateKey', () => {
    let url: string;
    beforeAll(async () => {
      url = await start(
        TENANT_THROTTLERS,
        new RedisThrottlerStorage(redis.client, { keyPrefix: 'tenant:' }),
        [TenantController],
        TenantThrottlerGuard,
      );
    });

    it('counts per tenant across routes, under the key the subclass generates', async () => {
      const tenantA = { 'x-tenant': 'a' };
      expect((await call(`${url}/tenant/a`, 'GET', tenantA)).status).toBe(200);
      expect((await call(`${url}/tenant/b`, 'GET', tenantA)).status).toBe(200);
      const refused = await call(`${url}/tenant/a`, 'GET', tenantA);
      expect(refused.status).toBe(429);
      expect(refused.header('retry-after')).toBe('60');
      // Another tenant, from the same address, has its own budget.
      expect((await call(`${url}/tenant/a`, 'GET', { 'x-tenant': 'b' })).header('x-ratelimit-remaining')).toBe('1');
      const { record } = throttlerStorageKeys('tenant:', 'tenant-a-default', 'default');
      expect(await redis.client.exists(record)).toBe(1);
    });
  });

  describe('wired as docs/rate-limiting.md shows (forRootAsync with the RedisModule client)', () => {
    const keyPrefix = uniqueKeyPrefix('stock-guard-async');
    let url: string;
    beforeAll(async () => {
      const started = await startAsyncConfiguredApp(createAdapter(), { url: TEST_REDIS_URL, keyPrefix }, [TenantController]);
      apps.push(started.app);
      url = started.url;
    });
    afterAll(async () => deleteKeysWithPrefix(keyPrefix));

    it('limits and blocks through the storage built in the factory', async () => {
      expect((await call(`${url}/tenant/a`)).header('x-ratelimit-remaining')).toBe('1');
      expect((await call(`${url}/tenant/a`)).status).toBe(200);
      const refused = await call(`${url}/tenant/a`);
      expect(refused.status).toBe(429);
      expect(refused.header('retry-after')).toBe('120');
    });
  });
});
