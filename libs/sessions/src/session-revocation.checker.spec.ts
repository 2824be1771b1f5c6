import type { AuthenticatedUser } from '@nest-hardening/auth';
import { createRedisClient, type RedisClient } from '@nest-hardening/redis';
import { createTestRedis, type TestRedis } from '@nest-hardening/testing';
import { SessionRevocationChecker } from './session-revocation.checker';
import { sessionsKeys } from './sessions.keys';

const until = async (condition: () => boolean, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('SessionRevocationChecker (real Redis)', () => {
  let redis: TestRedis;
  let subscriber: RedisClient;
  let checker: SessionRevocationChecker;
  const user = (id: string, sessionId: string, jti: string): AuthenticatedUser => ({
    id,
    sessionId,
    jti,
    role: 'user',
    exp: Math.floor(Date.now() / 1000) + 600,
  });

  beforeAll(async () => {
    redis = await createTestRedis('revocation-checker');
    const options = { url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 2000, connectionName: 'test' };
    subscriber = createRedisClient(options, 'subscriber');
    await subscriber.connect();
    checker = new SessionRevocationChecker({ cacheTtlMs: 1000 }, redis.client, subscriber, options);
    await checker.onModuleInit();
    await redis.client.hset(sessionsKeys.session('u1', 's1'), 'createdAt', '1');
  });
  afterAll(async () => {
    subscriber.disconnect();
    await redis.cleanup();
  });

  it('asks Redis first, then answers a live session synchronously from its cache', async () => {
    const first = checker.isActive(user('u1', 's1', 'j-live'));
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(true);
    expect(checker.isActive(user('u1', 's1', 'j-live'))).toBe(true);
  });

  it('does not lend a cached answer to another user or session presenting the same token id', async () => {
    expect(await checker.isActive(user('u1', 's1', 'j-shared'))).toBe(true);
    const otherUser = checker.isActive(user('u2', 's1', 'j-shared'));
    expect(otherUser).toBeInstanceOf(Promise);
    expect(await otherUser).toBe(false);
    expect(await checker.isActive(user('u1', 's2', 'j-shared'))).toBe(false);
  });

  it('drops a cached answer when the revocation is published, and asks Redis again', async () => {
    await redis.client.hset(sessionsKeys.session('u3', 's3'), 'createdAt', '1');
    expect(await checker.isActive(user('u3', 's3', 'j3'))).toBe(true);
    expect(checker.isActive(user('u3', 's3', 'j3'))).toBe(true);
    await redis.client.del(sessionsKeys.session('u3', 's3'));
    await redis.client.publish(sessionsKeys.revocationChannel(redis.prefix), 's:s3');
    await until(() => checker.isActive(user('u3', 's3', 'j3')) !== true);
    expect(await checker.isActive(user('u3', 's3', 'j3'))).toBe(false);
  });

  it('drops the cached answer of a token whose denial is published, and asks Redis again', async () => {
    await redis.client.hset(sessionsKeys.session('u4', 's4'), 'createdAt', '1');
    expect(await checker.isActive(user('u4', 's4', 'j4'))).toBe(true);
    expect(checker.isActive(user('u4', 's4', 'j4'))).toBe(true);
    await redis.client.set(sessionsKeys.deniedToken('u4', 'j4'), '1');
    await redis.client.publish(sessionsKeys.revocationChannel(redis.prefix), 'j:j4');
    await until(() => checker.isActive(user('u4', 's4', 'j4')) !== true);
    expect(await checker.isActive(user('u4', 's4', 'j4'))).toBe(false);
    // The same session's other tokens keep their cached answers.
    expect(await checker.isActive(user('u4', 's4', 'j5'))).toBe(true);
  });
});
