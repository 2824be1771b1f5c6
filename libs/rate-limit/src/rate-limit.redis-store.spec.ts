import { createRedisClient } from '@nest-hardening/redis';
import { createTestRedis, type TestRedis } from '@nest-hardening/testing';

import { rateLimitKeys } from './rate-limit.keys';
import { RedisRateLimitStore } from './rate-limit.redis-store';
import type { RateLimitCharge } from './rate-limit.store.interface';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RedisRateLimitStore (real Redis)', () => {
  let redis: TestRedis;
  let store: RedisRateLimitStore;

  beforeAll(async () => {
    redis = await createTestRedis('rate-limit-store');
    store = new RedisRateLimitStore(redis.client);
  });
  afterAll(async () => redis.cleanup());

  const charge = (tracker: string, policy: string, limit: number, ttlMs = 60_000): RateLimitCharge => ({
    tracker,
    policy,
    limit,
    ttlMs,
  });

  it('admits up to the limit, then denies without incrementing the counter', async () => {
    const c = charge('ip:10.0.0.1', 'auth', 3);
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const decision = await store.consume([c]);
      expect(decision.admitted).toBe(true);
      counts.push(decision.outcomes[0].count);
    }
    expect(counts).toEqual([1, 2, 3]);
    for (let i = 0; i < 5; i++) {
      const decision = await store.consume([c]);
      expect(decision.admitted).toBe(false);
      expect(decision.outcomes[0]).toMatchObject({ denied: true, count: 3 });
    }
    expect(await redis.client.get(rateLimitKeys(c.tracker, c.policy).counter)).toBe('3');
  });

  it('moves a malformed request onto the malformed budget until that budget is spent, never below zero', async () => {
    const auth = charge('ip:10.0.0.40', 'auth', 5);
    const registration = charge('global:all', 'registration', 100);
    const malformed = charge('ip:10.0.0.40', 'malformed', 2);
    const count = async (c: RateLimitCharge) => Number((await redis.client.get(rateLimitKeys(c.tracker, c.policy).counter)) ?? 0);
    for (let i = 0; i < 3; i++) expect((await store.consume([auth, registration])).admitted).toBe(true);

    expect(await store.moveToMalformed([auth, registration], malformed)).toBe(true);
    expect(await store.moveToMalformed([auth, registration], malformed)).toBe(true);
    expect([await count(auth), await count(registration), await count(malformed)]).toEqual([1, 1, 2]);
    // The malformed budget is spent: the request stays charged where it was.
    expect(await store.moveToMalformed([auth, registration], malformed)).toBe(false);
    expect([await count(auth), await count(registration), await count(malformed)]).toEqual([1, 1, 2]);
    expect(await redis.client.pttl(rateLimitKeys(malformed.tracker, malformed.policy).counter)).toBeGreaterThan(0);

    const fresh = charge('ip:10.0.0.41', 'auth', 5);
    expect(await store.moveToMalformed([fresh], charge('ip:10.0.0.41', 'malformed', 2))).toBe(true);
    expect(await redis.client.get(rateLimitKeys(fresh.tracker, fresh.policy).counter)).toBeNull();
  });

  it('reports remaining time of the window and keeps it fixed (hits do not extend it)', async () => {
    const c = charge('ip:10.0.0.2', 'general', 10, 60_000);
    const first = await store.consume([c]);
    expect(first.outcomes[0].resetMs).toBe(60_000);
    const second = await store.consume([c]);
    expect(second.outcomes[0].resetMs).toBeLessThanOrEqual(60_000);
    expect(second.outcomes[0].resetMs).toBeGreaterThan(50_000);
    const pttl = await redis.client.pttl(rateLimitKeys(c.tracker, c.policy).counter);
    expect(pttl).toBeLessThanOrEqual(second.outcomes[0].resetMs);
  });

  it('starts a fresh window after the old one expires', async () => {
    const c = charge('ip:10.0.0.3', 'auth', 2, 300);
    await store.consume([c]);
    await store.consume([c]);
    expect((await store.consume([c])).admitted).toBe(false);
    await sleep(400);
    const after = await store.consume([c]);
    expect(after.admitted).toBe(true);
    expect(after.outcomes[0].count).toBe(1);
  });

  it('is all-or-nothing over several policies: one exhausted policy charges none', async () => {
    const general = charge('ip:10.0.0.4', 'general', 100);
    const auth = charge('ip:10.0.0.4', 'auth', 1);
    expect((await store.consume([general, auth])).admitted).toBe(true);
    for (let i = 0; i < 4; i++) {
      const decision = await store.consume([general, auth]);
      expect(decision.admitted).toBe(false);
      expect(decision.outcomes.map((o) => o.denied)).toEqual([false, true]);
    }
    // The general budget was spent once (the admitted request), not by the four denied ones.
    expect(await redis.client.get(rateLimitKeys(general.tracker, 'general').counter)).toBe('1');
    expect((await store.consume([general])).outcomes[0].count).toBe(2);
  });

  it('flags the first denial of a window exactly once', async () => {
    const c = charge('user:u-1', 'admin', 1);
    await store.consume([c]);
    const flags: boolean[] = [];
    for (let i = 0; i < 4; i++) flags.push((await store.consume([c])).outcomes[0].firstDenial);
    expect(flags).toEqual([true, false, false, false]);
  });

  it('keeps trackers that contain hash-tag characters apart and inside their own tag', () => {
    const evil = rateLimitKeys('user:a}{b', 'general').counter;
    expect(evil).toBe('{rl:user:a%7D%7Bb}:general');
    expect(evil).not.toBe(rateLimitKeys('user:a', 'general').counter);
  });

  it('admits exactly the limit when 200 requests race through two clients', async () => {
    const second = createRedisClient({ url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 2000 });
    await second.connect();
    try {
      const stores = [store, new RedisRateLimitStore(second)];
      const c = charge('ip:10.0.0.5', 'general', 100);
      const decisions = await Promise.all(Array.from({ length: 200 }, (_, i) => stores[i % 2].consume([c])));
      expect(decisions.filter((d) => d.admitted)).toHaveLength(100);
      expect(await redis.client.get(rateLimitKeys(c.tracker, c.policy).counter)).toBe('100');
    } finally {
      second.disconnect();
    }
  });
});
