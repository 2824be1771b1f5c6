import { createTestRedis, type TestRedis } from '@nest-hardening/testing';

import { RedisSessionStore } from './redis-session.store';
import { SessionFingerprinter } from './session-fingerprint';
import { sessionsKeys } from './sessions.keys';

describe('RedisSessionStore.advanceAuthVersion while the user keeps logging in', () => {
  let redis: TestRedis;
  let store: RedisSessionStore;
  const client = { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' };
  const fingerprint = new SessionFingerprinter('a fingerprint secret of 32+ characters', 24, 64).fingerprint(client);
  const userId = '00000000-0000-4000-8000-0000000002b1';

  beforeAll(async () => {
    redis = await createTestRedis('sessions-advance');
    store = new RedisSessionStore(redis.client, { url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 2000 });
  });
  afterAll(() => redis?.cleanup());

  const login = async (authVersion: number, user = userId) =>
    (
      await store.create({
        userId: user,
        role: 'user',
        client,
        fingerprint,
        idleTtlMs: 60_000,
        absoluteTtlMs: 120_000,
        maxSessions: 50,
        authVersion,
      })
    ).session.id;

  // The user's other devices log in with the new password between every index read and the script:
  // those sessions are under the new version and stay, so the change is complete and the caller
  // learns every session it ended (the audit count), instead of a 503 after the password changed.
  it('completes, and reports every older session it ended, when only sessions under the new version keep arriving', async () => {
    const older = [await login(0), await login(0)];
    const zrange = redis.client.zrange.bind(redis.client) as (...args: unknown[]) => Promise<string[]>;
    const newer: string[] = [];
    const spy = jest.spyOn(redis.client, 'zrange').mockImplementation(async (...args: unknown[]) => {
      const read = await zrange(...args);
      newer.push(await login(1));
      return read;
    });
    let ended: string[];
    try {
      ended = await store.advanceAuthVersion(userId, 1);
    } finally {
      spy.mockRestore();
    }
    expect(ended.sort()).toEqual([...older].sort());
    expect((await store.list(userId)).map((s) => s.id).sort()).toEqual([...newer].sort());
  });

  // A password change (version 5, keeping its own session) whose call reaches Redis late, after an
  // admin's change (version 6) published its version but had not yet ended that session (its first
  // call was incomplete: it is retried). The late call must not move the kept session to version 6,
  // or the admin's retry would take it for a session created under the new version and keep it.
  it('leaves the kept session at its version when a newer change was published first', async () => {
    const userId = '00000000-0000-4000-8000-0000000002b2';
    const kept = await login(4, userId);
    await redis.client.set(sessionsKeys.authVersion(userId), '6');

    expect(await store.advanceAuthVersion(userId, 5, kept, 4)).toEqual([]);
    expect(await store.advanceAuthVersion(userId, 6)).toEqual([kept]);
    expect(await store.list(userId)).toEqual([]);
  });
});
