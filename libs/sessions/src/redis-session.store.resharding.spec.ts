import type { Cluster } from 'ioredis';

import { createRedisClient } from '@nest-hardening/redis';
import { startRedisCluster, type TestRedisCluster } from '@nest-hardening/testing';

import { RedisSessionStore } from './redis-session.store';
import { SessionFingerprinter } from './session-fingerprint';
import { sessionsKeys } from './sessions.keys';

/**
 * A slot of a user being resharded (CLUSTER SETSLOT MIGRATING/IMPORTING, keys moved by MIGRATE a
 * batch at a time, as `redis-cli --cluster reshard` does). The session scripts reach session
 * hashes they derive in Lua (not passed in KEYS): during the move they may sit on the other node.
 */
describe('RedisSessionStore while a user slot is being resharded', () => {
  let cluster: TestRedisCluster;
  let client: Cluster;
  let store: RedisSessionStore;
  const prefix = 'sess-reshard:';
  const fingerprint = new SessionFingerprinter('a fingerprint secret of 32+ characters', 24, 64).fingerprint({
    ip: '203.0.113.7',
    userAgent: 'jest',
  });
  let userCounter = 0;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = createRedisClient({ url: '', clusterNodes: cluster.nodes, keyPrefix: prefix, commandTimeoutMs: 2000 }) as Cluster;
    await client.connect();
    store = new RedisSessionStore(client, { url: '', clusterNodes: cluster.nodes, keyPrefix: prefix, commandTimeoutMs: 2000 });
  }, 30_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  /** Starts moving the user's slot to another master and moves only `moved` of its keys. */
  const startMove = (userId: string, moved: string[]) =>
    cluster.startSlotMove(
      prefix + sessionsKeys.index(userId),
      moved.map((key) => prefix + key),
    );

  async function login(userId: string) {
    const { session } = await store.create({
      userId,
      role: 'user',
      client: { ip: '203.0.113.7', userAgent: 'jest' },
      fingerprint,
      idleTtlMs: 600_000,
      absoluteTtlMs: 3_600_000,
      maxSessions: 5,
      authVersion: 0,
    });
    return session.id;
  }

  const newUser = () => `00000000-0000-4000-8000-${String(++userCounter).padStart(12, '0')}`;

  /** What a revocation left: its answer (or error, then retried once the reshard is over) and whether the session still passes the check. */
  async function outcome(revoke: () => Promise<string[]>, finish: () => Promise<void>) {
    const first = await revoke().catch((error: Error) => error);
    await finish();
    const retried = first instanceof Error ? await revoke() : undefined;
    return { first: first instanceof Error ? first.message : first, retried };
  }

  /**
   * Ended at once, or answered 503 (transient: the client retries) and ended by the retry after the
   * move; never a 500 (a non-transient error reply), never "nothing to end" while the session lives.
   */
  function expectRevoked(result: { first: string[] | string; retried?: string[] }, sid: string, stillActive: boolean) {
    const ok =
      (Array.isArray(result.first) && result.first.includes(sid)) ||
      (result.first === 'Service temporarily unavailable' && result.retried?.includes(sid) === true);
    expect({ ...result, stillActive, ok }).toEqual({ ...result, stillActive: false, ok: true });
  }

  it('"end every session" ends a session whose hash has already moved to the new node', async () => {
    const userId = newUser();
    const sid = await login(userId);
    const move = await startMove(userId, [sessionsKeys.session(userId, sid)]);

    const result = await outcome(() => store.revokeAll(userId), move.finish);

    expectRevoked(result, sid, await store.isActive(userId, sid, 'any-jti'));
  });

  it('"end every session" ends a session whose hash has not moved yet (index already moved)', async () => {
    const userId = newUser();
    const sid = await login(userId);
    const move = await startMove(userId, [sessionsKeys.index(userId)]);

    const result = await outcome(() => store.revokeAll(userId), move.finish);

    expectRevoked(result, sid, await store.isActive(userId, sid, 'any-jti'));
  });

  it('a password change (advanceAuthVersion) ends a session whose hash has not moved yet', async () => {
    const userId = newUser();
    await client.set(sessionsKeys.authVersion(userId), '0');
    const sid = await login(userId);
    const move = await startMove(userId, [sessionsKeys.index(userId), sessionsKeys.authVersion(userId)]);

    const result = await outcome(() => store.advanceAuthVersion(userId, 1), move.finish);

    expectRevoked(result, sid, await store.isActive(userId, sid, 'any-jti'));
  });

  it('listing the sessions during the move does not drop a live session from the index (which "end every session" reads)', async () => {
    const userId = newUser();
    const sid = await login(userId);
    const move = await startMove(userId, [sessionsKeys.index(userId)]);

    const listed = (await store.list(userId).catch((error: Error) => error)) as { id: string }[] | Error;
    await move.finish();
    const ended = await store.revokeAll(userId);

    // During the move the list may be a 503 (TRYAGAIN, transient); it must not drop the live session.
    const shown = listed instanceof Error ? listed.message : listed.map((session) => session.id);
    expect([[sid], 'Service temporarily unavailable']).toContainEqual(shown);
    expect({ ended, stillActive: await store.isActive(userId, sid, 'any-jti') }).toEqual({ ended: [sid], stillActive: false });
  });
});
