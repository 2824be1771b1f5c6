import { Logger } from '@nestjs/common';

import type { AuthenticatedUser } from '@nest-hardening/auth';
import { createRedisClient, type RedisClient } from '@nest-hardening/redis';
import { createTestRedis, type TestRedis } from '@nest-hardening/testing';

import { MemorySessionStore } from './memory-session.store';
import { RedisSessionStore } from './redis-session.store';
import { SessionRevocationChecker } from './session-revocation.checker';
import type { RevocationListener, SessionStore } from './session.store';
import { sessionsKeys } from './sessions.keys';

/**
 * Polls `condition` on the event loop without reading the clock (tests below freeze the clock, see
 * `freezeClock`, so that a cached answer can only go away by its revocation being announced, never by its TTL).
 */
const eventually = async (condition: () => boolean) => {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error('condition not reached');
};

/** Stops the clock the cache TTL is measured on. */
const freezeClock = () => jest.spyOn(performance, 'now').mockReturnValue(performance.now());

const user = (id: string, sessionId: string, jti: string): AuthenticatedUser => ({
  id,
  sessionId,
  jti,
  role: 'user',
  exp: Math.floor(Date.now() / 1000) + 600,
});

interface CheckerVariant {
  store: SessionStore;
  cleanup(): Promise<void>;
}

async function redisVariant(): Promise<CheckerVariant & { redis: TestRedis }> {
  const redis = await createTestRedis('revocation-checker');
  const options = { url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 2000, connectionName: 'test' };
  const subscriber: RedisClient = createRedisClient(options, 'subscriber');
  await subscriber.connect();
  return {
    redis,
    store: new RedisSessionStore(redis.client, options, subscriber),
    cleanup: async () => {
      subscriber.disconnect();
      await redis.cleanup();
    },
  };
}

const memoryVariant = async (): Promise<CheckerVariant> => ({ store: new MemorySessionStore(), cleanup: async () => undefined });

/** The checker's cache over either store: every revocation the store makes drops the cached answers it concerns. */
describe.each([
  ['redis', redisVariant],
  ['memory', memoryVariant],
])('SessionRevocationChecker (%s store)', (_name, makeVariant) => {
  let variant: CheckerVariant;
  let store: SessionStore;
  let checker: SessionRevocationChecker;
  let userCounter = 0;

  beforeAll(async () => {
    variant = await makeVariant();
    store = variant.store;
    checker = new SessionRevocationChecker({ cacheTtlMs: 1000 }, store);
    await checker.onModuleInit();
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => variant?.cleanup());

  async function login() {
    const userId = `00000000-0000-4000-8000-${String(++userCounter).padStart(12, '0')}`;
    const { session } = await store.create({
      userId,
      role: 'user',
      client: { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' },
      fingerprint: { userAgent: 'fp-ua', ip: 'fp-ip' },
      idleTtlMs: 60_000,
      absoluteTtlMs: 120_000,
      maxSessions: 10,
      authVersion: 0,
    });
    return { userId, sessionId: session.id };
  }

  /** Caches a positive answer for the token, then freezes the clock so that only an announcement can drop it. */
  async function cacheThenFreeze(u: AuthenticatedUser) {
    expect(await checker.isActive(u)).toBe(true);
    expect(checker.isActive(u)).toBe(true);
    freezeClock();
  }

  it('asks the store first, then answers a live session synchronously from its cache', async () => {
    const s = await login();
    const first = checker.isActive(user(s.userId, s.sessionId, 'j-live'));
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(true);
    expect(checker.isActive(user(s.userId, s.sessionId, 'j-live'))).toBe(true);
  });

  it('does not lend a cached answer to another user or session presenting the same token id', async () => {
    const s = await login();
    expect(await checker.isActive(user(s.userId, s.sessionId, 'j-shared'))).toBe(true);
    const otherUser = checker.isActive(user('00000000-0000-4000-8000-999999999999', s.sessionId, 'j-shared'));
    expect(otherUser).toBeInstanceOf(Promise);
    expect(await otherUser).toBe(false);
    expect(await checker.isActive(user(s.userId, 'AAAAAAAAAAAAAAAAAAAAAA', 'j-shared'))).toBe(false);
  });

  it('a revoked session: its cached answers are dropped at the announcement, and the store refuses it', async () => {
    const s = await login();
    const u = user(s.userId, s.sessionId, 'j-revoked');
    await cacheThenFreeze(u);
    expect(await store.revoke(s.userId, s.sessionId)).toBe(true);
    await eventually(() => checker.isActive(u) !== true);
    expect(await checker.isActive(u)).toBe(false);
  });

  it('a reused refresh token: the session ends and its cached answers go with it', async () => {
    const s = await login();
    const u = user(s.userId, s.sessionId, 'j-reuse');
    await cacheThenFreeze(u);
    const rotation = {
      userId: s.userId,
      sessionId: s.sessionId,
      fingerprint: { userAgent: 'fp-ua', ip: 'fp-ip' },
      graceMs: 0,
      idleTtlMs: 60_000,
      userAgentPolicy: 'strict',
      ipPolicy: 'log',
    };
    expect((await store.rotate({ ...rotation, presentedGeneration: 0 })).outcome).toBe('rotated');
    expect(checker.isActive(u)).toBe(true);
    expect((await store.rotate({ ...rotation, presentedGeneration: 0 })).outcome).toBe('reuse');
    await eventually(() => checker.isActive(u) !== true);
    expect(await checker.isActive(u)).toBe(false);
  });

  it('logout: the token and its session are refused at once, however recently they were checked', async () => {
    const s = await login();
    const u = user(s.userId, s.sessionId, 'j-logout');
    await cacheThenFreeze(u);
    expect(await store.logout(s.userId, s.sessionId, 'j-logout', u.exp)).toBe(true);
    await eventually(() => checker.isActive(u) !== true);
    expect(await checker.isActive(u)).toBe(false);
  });

  it('an authorization change: the other sessions are dropped, the kept one keeps its cached answer', async () => {
    const s = await login();
    const { sessionId: otherId } = await store
      .create({
        userId: s.userId,
        role: 'user',
        client: { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' },
        fingerprint: { userAgent: 'fp-ua', ip: 'fp-ip' },
        idleTtlMs: 60_000,
        absoluteTtlMs: 120_000,
        maxSessions: 10,
        authVersion: 0,
      })
      .then((r) => ({ sessionId: r.session.id }));
    const kept = user(s.userId, s.sessionId, 'j-kept');
    const other = user(s.userId, otherId, 'j-other');
    expect(await checker.isActive(kept)).toBe(true);
    await cacheThenFreeze(other);
    expect(await store.advanceAuthVersion(s.userId, 1, s.sessionId)).toEqual([otherId]);
    await eventually(() => checker.isActive(other) !== true);
    expect(await checker.isActive(other)).toBe(false);
    expect(checker.isActive(kept)).toBe(true);
  });
});

describe('SessionRevocationChecker (Redis announcements)', () => {
  let variant: Awaited<ReturnType<typeof redisVariant>>;
  let checker: SessionRevocationChecker;

  beforeAll(async () => {
    variant = await redisVariant();
    checker = new SessionRevocationChecker({ cacheTtlMs: 1000 }, variant.store);
    await checker.onModuleInit();
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => variant?.cleanup());

  it("drops the cached answer of a token whose denial is published, and keeps its session's other tokens", async () => {
    const { client, prefix } = variant.redis;
    await client.hset(sessionsKeys.session('u4', 's4'), 'createdAt', '1');
    expect(await checker.isActive(user('u4', 's4', 'j4'))).toBe(true);
    expect(await checker.isActive(user('u4', 's4', 'j5'))).toBe(true);
    freezeClock();
    await client.set(sessionsKeys.deniedToken('u4', 'j4'), '1');
    await client.publish(sessionsKeys.revocationChannel(prefix), 'j:j4');
    await eventually(() => checker.isActive(user('u4', 's4', 'j4')) !== true);
    expect(await checker.isActive(user('u4', 's4', 'j4'))).toBe(false);
    // The same session's other tokens keep their cached answers.
    expect(checker.isActive(user('u4', 's4', 'j5'))).toBe(true);
  });

  it('refuses a session that ended unannounced once the cache TTL has passed, even after the wall clock stepped back', async () => {
    const { client } = variant.redis;
    await client.hset(sessionsKeys.session('u6', 's6'), 'createdAt', '1');
    const u = user('u6', 's6', 'j6');
    expect(await checker.isActive(u)).toBe(true);
    expect(checker.isActive(u)).toBe(true);
    // NTP steps this host's clock back a minute, and the session ends without its announcement
    // reaching this process: the cached answer may still be reused for cacheTtlMs, not for a minute.
    const wallClock = Date.now;
    jest.spyOn(Date, 'now').mockImplementation(() => wallClock() - 60_000);
    await client.del(sessionsKeys.session('u6', 's6'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await checker.isActive(u)).toBe(false);
  });

  it('counts the reuse of an answer from when it was asked: a slow reply does not stretch the bound of an unannounced end', async () => {
    const { client } = variant.redis;
    await client.hset(sessionsKeys.session('u7', 's7'), 'createdAt', '1');
    const u = user('u7', 's7', 'j7');
    let now = performance.now();
    jest.spyOn(performance, 'now').mockImplementation(() => now);
    const asked = now;
    const pending = checker.isActive(u);
    // Redis reads the session as live, and its reply is handled 900 ms after the check was asked (a
    // slow Redis, a busy event loop); the session ends meanwhile without its announcement arriving.
    now = asked + 900;
    expect(await pending).toBe(true);
    await client.del(sessionsKeys.session('u7', 's7'));
    // The session was live at some moment after `asked`, never later than the reply: once the cache
    // TTL has passed since `asked`, the answer must not be reused.
    now = asked + 1001;
    expect(await checker.isActive(u)).toBe(false);
  });
});

describe('SessionRevocationChecker across a lost subscription', () => {
  it('does not cache an answer the store gave while announcements could be missed', async () => {
    let listener!: RevocationListener;
    let answer!: (active: boolean) => void;
    const isActive = jest.fn(() => new Promise<boolean>((resolve) => (answer = resolve)));
    const store = {
      watchRevocations: async (l: RevocationListener) => {
        listener = l;
      },
      isActive,
    } as unknown as SessionStore;
    const checker = new SessionRevocationChecker({ cacheTtlMs: 1000 }, store);
    await checker.onModuleInit();
    const u = user('00000000-0000-4000-8000-000000000077', 'AAAAAAAAAAAAAAAAAAAAAA', 'j-gap');

    listener.lost();
    // Asked while the feed is down: the store reads the session as live...
    const pending = checker.isActive(u);
    // ...then the session is revoked and announced before the new SUBSCRIBE is answered (missed),
    // and the feed comes back up before the store's answer arrives.
    listener.ready(true);
    answer(true);
    expect(await pending).toBe(true);

    // The store now refuses the token: the next request must ask it, not reuse the earlier answer.
    isActive.mockImplementation(async () => false);
    expect(await checker.isActive(u)).toBe(false);
  });
});

describe('SessionRevocationChecker when the app closes', () => {
  it('warns of no lost subscription: a deployment is not an outage, and the warning is what an operator alerts on', async () => {
    const variant = await redisVariant();
    const checker = new SessionRevocationChecker({ cacheTtlMs: 1000 }, variant.store);
    await checker.onModuleInit();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await checker.onModuleDestroy();
      await variant.cleanup(); // the subscriber's connection closes, as RedisLifecycle closes it afterwards
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(warn.mock.calls).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('SessionRevocationChecker options', () => {
  it.each([0, 99, 60_001, 250.5, Number.NaN])('refuses probeIntervalMs %p at start-up, naming it', (probeIntervalMs) => {
    expect(() => new SessionRevocationChecker({ cacheTtlMs: 500, probeIntervalMs }, new MemorySessionStore())).toThrow(
      'SessionRevocationModule: probeIntervalMs must be a whole number from 100 to 60000',
    );
  });
});
