import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

import type { AuthenticatedUser } from '@nest-hardening/auth';
import { createRedisClient, type RedisClient, type RedisModuleOptions } from '@nest-hardening/redis';
import {
  createTestRedis,
  holdScriptCalls,
  startRedisCluster,
  startTcpRelay,
  TEST_REDIS_URL,
  type TcpRelay,
  type TestRedis,
  type TestRedisCluster,
} from '@nest-hardening/testing';

import { RedisSessionStore } from './redis-session.store';
import { CHECK_SESSION_SCRIPT } from './scripts/check-session.script';
import { SessionRevocationChecker } from './session-revocation.checker';
import { sessionsKeys } from './sessions.keys';

/**
 * The probe on the revocation feed: a subscription that stops delivering without any event from the
 * Redis client (a half-open connection, a Cluster subscriber left unsubscribed) stops the cache, and
 * the cache comes back once the feed delivers again. Probes are never revocations.
 */
const PROBE_INTERVAL_MS = 100;

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  for (const deadline = Date.now() + timeoutMs; !(await check()); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
};

/** Stops the clock the cache TTL is measured on: a cached answer then goes only by the feed's doing. */
const freezeClock = () => jest.spyOn(performance, 'now').mockReturnValue(performance.now());

const user = (id: string, sessionId: string, jti: string): AuthenticatedUser => ({
  id,
  sessionId,
  jti,
  role: 'user',
  exp: Math.floor(Date.now() / 1000) + 600,
});

/** Whether the checker answers `u` from its cache (synchronously); asks Redis otherwise, so the next call may. */
const cached = (checker: SessionRevocationChecker, u: AuthenticatedUser) => {
  const answer = checker.isActive(u);
  if (answer === true) return true;
  return Promise.resolve(answer).then(() => false);
};

afterEach(() => jest.restoreAllMocks());

describe('RedisSessionStore feed probe on a single Redis', () => {
  let redis: TestRedis;
  let relay: TcpRelay;
  let subscriber: RedisClient;
  let store: RedisSessionStore;
  let checker: SessionRevocationChecker;

  beforeEach(async () => {
    redis = await createTestRedis('feed-probe');
    relay = await startTcpRelay(Number(new URL(TEST_REDIS_URL).port || 6379));
    const options: RedisModuleOptions = { url: `redis://127.0.0.1:${relay.port}`, keyPrefix: redis.prefix, commandTimeoutMs: 1000 };
    subscriber = createRedisClient(options, 'subscriber');
    subscriber.on('error', () => undefined);
    await subscriber.connect();
    store = new RedisSessionStore(redis.client, options, subscriber);
    checker = new SessionRevocationChecker({ cacheTtlMs: 1000, probeIntervalMs: PROBE_INTERVAL_MS }, store);
    await checker.onModuleInit();
  });

  afterEach(async () => {
    await checker.onModuleDestroy();
    store.onModuleDestroy();
    subscriber.disconnect();
    await relay.close();
    await redis.cleanup();
  });

  it('stops caching when the subscriber silently stops receiving, and caches again once the feed is back', async () => {
    await redis.client.hset(sessionsKeys.session('u1', 's1'), 'createdAt', '1');
    await redis.client.hset(sessionsKeys.session('u1', 's2'), 'createdAt', '1');
    const u = user('u1', 's1', 'j1');
    const other = user('u1', 's2', 'j2');
    expect(await checker.isActive(u)).toBe(true);
    expect(checker.isActive(u)).toBe(true);
    freezeClock();

    // The subscriber's connection stays open but carries nothing (a partition): no 'close'.
    relay.silence();
    await until('the cached answer to be dropped', () => checker.isActive(u) !== true);
    // The session ends and its announcement cannot arrive: refused at once, not after the TTL.
    await redis.client.del(sessionsKeys.session('u1', 's1'));
    expect(await checker.isActive(u)).toBe(false);
    expect(await cached(checker, other)).toBe(false);
    expect(await cached(checker, other)).toBe(false);

    relay.heal();
    await until('answers to be cached again', () => cached(checker, other));
    // And the feed delivers: an announced revocation drops the cached answer at once.
    await redis.client.del(sessionsKeys.session('u1', 's2'));
    await redis.client.publish(sessionsKeys.revocationChannel(redis.prefix), 's:s2');
    await until('the announcement', () => checker.isActive(other) !== true);
    expect(await checker.isActive(other)).toBe(false);
  }, 30_000);
});

describe('RedisSessionStore feed probe beside the connection events', () => {
  it('a subscriber that reconnects while probes still fail does not bring the cache back', async () => {
    const redis = await createTestRedis('feed-probe-rule');
    const relay = await startTcpRelay(Number(new URL(TEST_REDIS_URL).port || 6379));
    // This instance publishes as an ACL user of its own, so that only its probes can be refused.
    const aclUser = `feed-probe-${redis.prefix.split(':')[2]}`;
    await redis.client.acl('SETUSER', aclUser, 'on', 'nopass', '~*', '&*', '+@all');
    const options: RedisModuleOptions = { url: `redis://127.0.0.1:${relay.port}`, keyPrefix: redis.prefix, commandTimeoutMs: 1000 };
    const main = createRedisClient({ ...options, url: TEST_REDIS_URL, username: aclUser, password: 'x' }, 'main');
    const subscriber = createRedisClient(options, 'subscriber');
    subscriber.on('error', () => undefined);
    await main.connect();
    await subscriber.connect();
    const store = new RedisSessionStore(main, options, subscriber);
    const checker = new SessionRevocationChecker({ cacheTtlMs: 1000, probeIntervalMs: PROBE_INTERVAL_MS }, store);
    try {
      await checker.onModuleInit();
      await redis.client.hset(sessionsKeys.session('u1', 's1'), 'createdAt', '1');
      const u = user('u1', 's1', 'j1');
      expect(await checker.isActive(u)).toBe(true);
      expect(checker.isActive(u)).toBe(true);
      freezeClock();

      await redis.client.acl('SETUSER', aclUser, 'resetchannels');
      await until('the cached answer to be dropped', () => checker.isActive(u) !== true);
      // The subscriber's connection drops and comes back: Redis answers its SUBSCRIBE, but this
      // instance's probes are still refused, so the feed is still unproven.
      relay.cut();
      await new Promise((r) => setTimeout(r, 5 * PROBE_INTERVAL_MS));
      expect(subscriber.status).toBe('ready');
      expect(await cached(checker, u)).toBe(false);
      expect(await cached(checker, u)).toBe(false);

      await redis.client.acl('SETUSER', aclUser, 'allchannels');
      await until('answers to be cached again', () => cached(checker, u));
    } finally {
      await checker.onModuleDestroy();
      store.onModuleDestroy();
      main.disconnect();
      subscriber.disconnect();
      await redis.client.acl('DELUSER', aclUser);
      await relay.close();
      await redis.cleanup();
    }
  }, 30_000);
});

describe("RedisSessionStore feed probe when a reconnect's SUBSCRIBE fails", () => {
  let redis: TestRedis;
  let subscriber: RedisClient | undefined;
  let store: RedisSessionStore | undefined;
  let checker: SessionRevocationChecker | undefined;
  let relay: TcpRelay | undefined;
  let aclUser: string | undefined;

  /** Waits for the store's warning that the SUBSCRIBE sent on 'ready' failed. */
  const subscribeFailed = (warn: jest.SpyInstance) => () =>
    warn.mock.calls.some(([message]) => String(message).startsWith('revocation feed could not subscribe again'));

  const start = async (options: RedisModuleOptions, probeIntervalMs: number) => {
    subscriber = createRedisClient(options, 'subscriber');
    subscriber.on('error', () => undefined);
    await subscriber.connect();
    store = new RedisSessionStore(redis.client, options, subscriber);
    checker = new SessionRevocationChecker({ cacheTtlMs: 1000, probeIntervalMs }, store);
    await checker.onModuleInit();
    await redis.client.hset(sessionsKeys.session('u1', 's1'), 'createdAt', '1');
    const u = user('u1', 's1', 'j1');
    expect(await checker.isActive(u)).toBe(true);
    expect(checker.isActive(u)).toBe(true);
    freezeClock();
    return u;
  };

  beforeEach(async () => {
    redis = await createTestRedis('feed-probe-resub');
  });

  afterEach(async () => {
    await checker?.onModuleDestroy();
    store?.onModuleDestroy();
    subscriber?.disconnect();
    await relay?.close();
    if (aclUser) await redis.client.acl('DELUSER', aclUser);
    checker = store = subscriber = relay = aclUser = undefined;
    await redis.cleanup();
  });

  // ACL SETUSER resetchannels makes Redis drop the subscriber's connection; the SUBSCRIBE of the new
  // one is refused (NOPERM). The probe subscribes again until it gets through: from then on the
  // feed delivers, and the process must cache again, not answer every request from Redis for good.
  it('caches again once a later SUBSCRIBE gets through after the channel was refused', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    aclUser = `feed-probe-sub-${redis.prefix.split(':')[2]}`;
    await redis.client.acl('SETUSER', aclUser, 'on', 'nopass', '~*', '&*', '+@all');
    const u = await start(
      { url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 1000, username: aclUser, password: 'x' },
      PROBE_INTERVAL_MS,
    );

    await redis.client.acl('SETUSER', aclUser, 'resetchannels');
    await until('the refused SUBSCRIBE', subscribeFailed(warn));
    expect(await cached(checker!, u)).toBe(false);

    await redis.client.acl('SETUSER', aclUser, 'allchannels');
    await until('answers to be cached again', () => cached(checker!, u));
    // And the feed delivers: an announced revocation drops the cached answer at once.
    await redis.client.del(sessionsKeys.session('u1', 's1'));
    await redis.client.publish(sessionsKeys.revocationChannel(redis.prefix), 's:s1');
    await until('the announcement', () => checker!.isActive(u) !== true);
    expect(await checker!.isActive(u)).toBe(false);
  }, 30_000);

  // Redis answers the SUBSCRIBE after the client gave up waiting (a slow Redis just after a
  // restart): the channel is subscribed and the probes come back, so the feed is up.
  it('caches again when the SUBSCRIBE sent on reconnect timed out but Redis carried it out', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    relay = await startTcpRelay(Number(new URL(TEST_REDIS_URL).port || 6379));
    // Probes further apart than the command timeout: the SUBSCRIBE is let through well before one is missed.
    const u = await start({ url: `redis://127.0.0.1:${relay.port}`, keyPrefix: redis.prefix, commandTimeoutMs: 200 }, 2000);

    // The command's name as RESP sends it (the connection's name contains "subscriber" too).
    relay.holdClientBytes((chunk) => /\$9\r\nsubscribe\r\n/i.test(chunk.toString()));
    relay.cut();
    await until('the SUBSCRIBE to time out', subscribeFailed(warn));
    relay.release();

    await until('answers to be cached again', () => cached(checker!, u));
  }, 30_000);
});

describe('RedisSessionStore feed probe on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let nodes: Redis[] = [];
  const clients: RedisClient[] = [];
  let checker: SessionRevocationChecker | undefined;
  let store: RedisSessionStore | undefined;

  afterAll(async () => {
    await checker?.onModuleDestroy();
    store?.onModuleDestroy();
    for (const client of [...clients, ...nodes]) client.disconnect();
    await cluster?.stop();
  });

  it("stops caching while the cluster subscriber's re-subscription is refused, and subscribes again once allowed", async () => {
    cluster = await startRedisCluster();
    nodes = cluster.nodes.map((node) => new Redis({ host: '127.0.0.1', port: Number(node.split(':')[1]) }));
    // The app's commands run as a user of their own, so that only the subscriber's user loses its channels.
    for (const node of nodes) await node.acl('SETUSER', 'app', 'on', 'nopass', '~*', '&*', '+@all');
    const base = { url: '', clusterNodes: cluster.nodes, keyPrefix: 'probe:', commandTimeoutMs: 1000 };
    const main = createRedisClient({ ...base, username: 'app', password: 'x' }, 'main');
    const subscriber = createRedisClient(base, 'subscriber');
    clients.push(main, subscriber);
    subscriber.on('error', () => undefined);
    await main.connect();
    await subscriber.connect();
    store = new RedisSessionStore(main, base, subscriber);
    checker = new SessionRevocationChecker({ cacheTtlMs: 1000, probeIntervalMs: PROBE_INTERVAL_MS }, store);
    await checker.onModuleInit();

    await main.hset(sessionsKeys.session('u1', 's1'), 'createdAt', '1');
    await main.hset(sessionsKeys.session('u1', 's2'), 'createdAt', '1');
    const u = user('u1', 's1', 'j1');
    const other = user('u1', 's2', 'j2');
    expect(await checker.isActive(u)).toBe(true);
    expect(checker.isActive(u)).toBe(true);
    freezeClock();

    // Redis drops the subscriber's connection; ioredis's new one is refused SUBSCRIBE (NOPERM), which
    // it swallows: no event, no retry.
    for (const node of nodes) await node.acl('SETUSER', 'default', 'resetchannels');
    await until('the cached answer to be dropped', () => checker!.isActive(u) !== true);
    await main.del(sessionsKeys.session('u1', 's1'));
    expect(await checker.isActive(u)).toBe(false);
    expect(await cached(checker, other)).toBe(false);

    for (const node of nodes) await node.acl('SETUSER', 'default', 'allchannels');
    await until('answers to be cached again', () => cached(checker!, other));
    await main.del(sessionsKeys.session('u1', 's2'));
    await nodes[0].publish(sessionsKeys.revocationChannel('probe:'), 's:s2');
    await until('the announcement', () => checker!.isActive(other) !== true);
    expect(await checker.isActive(other)).toBe(false);
  }, 60_000);
});

describe('RedisSessionStore feed probes are no revocations', () => {
  let redis: TestRedis;
  let subscriber: RedisClient;
  let store: RedisSessionStore;
  const options = () => ({ url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 1000 });

  beforeAll(async () => {
    redis = await createTestRedis('feed-probe-msg');
    subscriber = createRedisClient(options(), 'subscriber');
    await subscriber.connect();
  });

  afterAll(async () => {
    store?.onModuleDestroy();
    subscriber.disconnect();
    await redis.cleanup();
  });

  it("an answer computed while other instances' probes arrive is cached, and no probe reaches the listener", async () => {
    let n = 0;
    const held = holdScriptCalls(redis.client, ([sha]) => sha === CHECK_SESSION_SCRIPT.sha && ++n === 2);
    store = new RedisSessionStore(held.client, options(), subscriber);
    const heard: string[] = [];
    const checker = new SessionRevocationChecker({ cacheTtlMs: 1000, probeIntervalMs: PROBE_INTERVAL_MS }, store);
    await checker.onModuleInit();
    // A second listener on the same store, to see every message that passes as a revocation.
    await store.watchRevocations({ revoked: (m) => heard.push(m), lost: () => heard.push('lost'), ready: () => undefined });
    await redis.client.hset(sessionsKeys.session('u1', 's1'), 'createdAt', '1');
    const u = user('u1', 's1', 'j1');
    expect(await checker.isActive(u)).toBe(true);
    freezeClock();
    const otherToken = user('u1', 's1', 'j2');

    // The check for another token is under way at Redis while other instances' probes (and this
    // instance's own) arrive: none of them may stop its answer being cached.
    const pending = checker.isActive(otherToken);
    await held.reached;
    const channel = sessionsKeys.revocationChannel(redis.prefix);
    for (let i = 1; i <= 3; i++) await redis.client.publish(channel, `p:0123456789abcdef01234567:${i}`);
    await new Promise((r) => setTimeout(r, 3 * PROBE_INTERVAL_MS));
    held.open();
    expect(await pending).toBe(true);
    expect(checker.isActive(otherToken)).toBe(true);
    expect(checker.isActive(u)).toBe(true);

    await redis.client.publish(channel, 's:elsewhere');
    await until('the revocation', () => heard.includes('s:elsewhere'));
    expect(heard).toEqual(['s:elsewhere']);
    await checker.onModuleDestroy();
  });
});
