import { createRedisClient, observeRedisScripts } from '@lib/redis';
import { createTestRedis, type TestRedis } from '@lib/testing';
import { ConsumeBatcher } from './throttling.consume-batcher';
import { rateLimitKeys } from './throttling.keys';
import type { RateLimitCharge } from './throttling.store.interface';

describe('ConsumeBatcher (real Redis)', () => {
  let redis: TestRedis;
  let calls: number;

  beforeAll(async () => {
    redis = await createTestRedis('throttling-batcher');
    observeRedisScripts(redis.client, (script) => {
      if (script === 'rate-limit-consume') calls++;
    });
  });
  beforeEach(() => {
    calls = 0;
  });
  afterAll(async () => {
    observeRedisScripts(redis.client, undefined);
    await redis.cleanup();
  });

  const charge = (tracker: string, policy: string, limit: number, ttlMs = 60_000): RateLimitCharge => ({ tracker, policy, limit, ttlMs });

  it('sends the decisions asked for in one event-loop turn as one script call', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => batcher.consume(-1, [charge(`user:batch-${i}`, 'general', 100)], 1)),
    );
    expect(calls).toBe(1);
    expect(decisions.every((d) => d.admitted && d.outcomes[0].count === 1)).toBe(true);
  });

  it('decides a batch in arrival order, each request on its own: exactly the limit is admitted', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    const c = charge('ip:10.1.0.1', 'auth', 3);
    const decisions = await Promise.all(Array.from({ length: 10 }, () => batcher.consume(-1, [c], 1)));
    expect(calls).toBe(1);
    expect(decisions.map((d) => d.admitted)).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(decisions.map((d) => d.outcomes[0].count)).toEqual([1, 2, 3, 3, 3, 3, 3, 3, 3, 3]);
    // The first denial of the window is flagged once, for the first denied request only.
    expect(decisions.map((d) => d.outcomes[0].firstDenial)).toEqual([false, false, false, true, false, false, false, false, false, false]);
    expect(await redis.client.get(rateLimitKeys(c.tracker, c.policy).counter)).toBe('3');
  });

  it('keeps every request all-or-nothing inside a batch', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    const general = charge('user:mixed', 'general', 100);
    const ceiling = charge('ip:10.1.0.2', 'ipCeiling', 2);
    const decisions = await Promise.all([
      batcher.consume(-1, [general, ceiling], 1),
      batcher.consume(-1, [general, ceiling], 1),
      batcher.consume(-1, [general, ceiling], 1), // the ceiling refuses: general must not be charged
      batcher.consume(-1, [general], 1),
    ]);
    expect(calls).toBe(1);
    expect(decisions.map((d) => d.admitted)).toEqual([true, true, false, true]);
    expect(decisions[2].outcomes.map((o) => o.denied)).toEqual([false, true]);
    expect(decisions[3].outcomes[0].count).toBe(3);
    expect(await redis.client.get(rateLimitKeys(general.tracker, 'general').counter)).toBe('3');
  });

  it('splits a large turn into calls of at most the configured size', async () => {
    const batcher = new ConsumeBatcher(redis.client, 8);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => batcher.consume(-1, [charge(`user:split-${i % 5}`, 'general', 100)], 1)),
    );
    expect(calls).toBe(3);
    expect(decisions.filter((d) => d.admitted)).toHaveLength(20);
    expect(await redis.client.get(rateLimitKeys('user:split-0', 'general').counter)).toBe('4');
  });

  it('keeps slots apart: one call per slot in a turn', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    await Promise.all([
      batcher.consume(1, [charge('user:slot-a', 'general', 10)], 1),
      batcher.consume(2, [charge('user:slot-b', 'general', 10)], 1),
      batcher.consume(1, [charge('user:slot-a', 'general', 10)], 1),
    ]);
    expect(calls).toBe(2);
  });

  it('fails every request of a call that fails, and the next turn starts afresh', async () => {
    const client = createRedisClient({ url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 500, connectionName: 'test' });
    await client.connect();
    const batcher = new ConsumeBatcher(client);
    client.disconnect();
    const results = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => batcher.consume(-1, [charge(`user:down-${i}`, 'general', 10)], 1)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);

    const healthy = new ConsumeBatcher(redis.client);
    expect((await healthy.consume(-1, [charge('user:down-0', 'general', 10)], 1)).outcomes[0].count).toBe(1);
  });
});
