import type { Cluster } from 'ioredis';

import { createRedisClient, redisKeySlot } from '@nest-hardening/redis';
import { startRedisCluster, type TestRedisCluster } from '@nest-hardening/testing';

import { rateLimitKeys } from './rate-limit.keys';
import { RedisRateLimitStore } from './rate-limit.redis-store';
import { RedisThrottlerStorage } from './redis-throttler-storage';

describe('RedisRateLimitStore on a real 3-node Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let client: Cluster;
  let store: RedisRateLimitStore;
  /** The master the last tests killed. */
  let down: string | undefined;
  const prefix = 'rl-cluster-test:';

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = createRedisClient({ url: '', clusterNodes: cluster.nodes, keyPrefix: prefix, commandTimeoutMs: 1000 }) as Cluster;
    await client.connect();
    store = new RedisRateLimitStore(client);
  }, 30_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('computes the same key slot as the cluster', async () => {
    for (const key of ['plain', '{rl:ip:1.2.3.4}:general', `${prefix}{rl:user:42}:auth`, 'a{}b', '{rl:ip:2001:db8::/64}:x']) {
      expect(redisKeySlot(key)).toBe(Number(await client.cluster('KEYSLOT', key)));
    }
  });

  it('charges several policies of one tracker in one slot, all-or-nothing', async () => {
    const general = { tracker: 'ip:192.0.2.1', policy: 'general', limit: 10, ttlMs: 60_000 };
    const auth = { tracker: 'ip:192.0.2.1', policy: 'auth', limit: 1, ttlMs: 60_000 };
    expect((await store.consume([general, auth])).admitted).toBe(true);
    expect((await store.consume([general, auth])).admitted).toBe(false);
    expect(await client.get(rateLimitKeys(general.tracker, 'general').counter)).toBe('1');
  });

  it('refunds the slots that admitted when another slot denies', async () => {
    // Two trackers that hash to different slots: a per-user and a per-IP policy of one request.
    const user = { tracker: 'user:alice', policy: 'general', limit: 10, ttlMs: 60_000 };
    const ip = { tracker: 'ip:192.0.2.2', policy: 'auth', limit: 1, ttlMs: 60_000 };
    expect(redisKeySlot(prefix + rateLimitKeys(user.tracker, user.policy).counter)).not.toBe(
      redisKeySlot(prefix + rateLimitKeys(ip.tracker, ip.policy).counter),
    );
    expect((await store.consume([user, ip])).admitted).toBe(true);
    for (let i = 0; i < 3; i++) {
      const decision = await store.consume([user, ip]);
      expect(decision.admitted).toBe(false);
      expect(decision.outcomes.map((o) => o.denied)).toEqual([false, true]);
    }
    expect(await client.get(rateLimitKeys(user.tracker, user.policy).counter)).toBe('1');
  });

  it('admits exactly the limit under concurrency on the cluster', async () => {
    const charge = { tracker: 'ip:192.0.2.3', policy: 'general', limit: 50, ttlMs: 60_000 };
    const decisions = await Promise.all(Array.from({ length: 120 }, () => store.consume([charge])));
    expect(decisions.filter((d) => d.admitted)).toHaveLength(50);
  });

  it('serves the stock guard as a ThrottlerStorage on the cluster, block included (one slot per call)', async () => {
    const storage = new RedisThrottlerStorage(client);
    // Stock keys are hashes; a custom generateKey may produce anything, braces included.
    for (const key of ['5f2b9c0e', 'tenant{a}:user:1']) {
      expect(await storage.increment(key, 60_000, 1, 120_000, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
      expect(await storage.increment(key, 60_000, 1, 120_000, 'default')).toMatchObject({
        totalHits: 2,
        isBlocked: true,
        timeToBlockExpire: 120,
      });
      expect(await storage.increment(key, 60_000, 1, 120_000, 'default')).toMatchObject({ isBlocked: true, timeToBlockExpire: 120 });
    }
  });

  /** A charge of `policy` whose tracker's slot is served (or not, with `onNode: false`) by `node`. */
  async function chargeOn(node: string, onNode: boolean, policy: string, limit: number, tracker = (i: number) => `ip:198.51.100.${i}`) {
    for (let i = 1; ; i++) {
      const charge = { tracker: tracker(i), policy, limit, ttlMs: 60_000 };
      const served = (await cluster.masterOf(prefix + rateLimitKeys(charge.tracker, policy).counter)) === node;
      if (served === onNode) return charge;
    }
  }

  // Last: they kill a master (no replica), which the tests above need.
  it('keeps no charge in a live slot for a request whose other slot failed (a master down)', async () => {
    client.on('error', () => undefined);
    const user = { tracker: 'user:partial-outage', policy: 'general', limit: 100, ttlMs: 60_000 };
    const userMaster = await cluster.masterOf(prefix + rateLimitKeys(user.tracker, user.policy).counter);
    const ip = await chargeOn(userMaster, false, 'auth', 100);
    expect((await store.consume([user, ip])).admitted).toBe(true);
    const charged = await client.get(rateLimitKeys(user.tracker, user.policy).counter);
    await cluster.kill((down = await cluster.masterOf(prefix + rateLimitKeys(ip.tracker, ip.policy).counter)));
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++)
      await store.consume([user, ip]).then(
        () => outcomes.push('decided'),
        (error: Error) => outcomes.push(error.name),
      );
    // Undecided (the caller's outage policy answers them): the live slot gave every unit back.
    expect(outcomes).toEqual(Array(5).fill('DependencyUnavailableError'));
    expect(await client.get(rateLimitKeys(user.tracker, user.policy).counter)).toBe(charged);
  });

  it('refuses a request a live slot refuses, though another of its slots is down: the outage fallback never overrides a refusal', async () => {
    client.on('error', () => undefined);
    if (down === undefined) await cluster.kill((down = (await cluster.masters())[0]));
    const user = await chargeOn(down, false, 'general', 1, (i) => `user:over-budget-${i}`);
    const unreachable = await chargeOn(down, true, 'ipCeiling', 1000);
    await client.set(rateLimitKeys(user.tracker, user.policy).counter, '1', 'PX', 60_000);

    const decision = await store.consume([user, unreachable]);
    // Without this, the caller's outage policy (an empty in-memory window) admits the user again.
    expect(decision.admitted).toBe(false);
    expect(decision.outcomes.map((o) => o.denied)).toEqual([true, false]);
    expect(decision.outcomes[0].resetMs).toBeGreaterThan(0);
    expect(decision.unreachable).toBeInstanceOf(Error);
    expect(await client.get(rateLimitKeys(user.tracker, user.policy).counter)).toBe('1');
  });
});
