import { DependencyUnavailableError } from '@nest-hardening/errors';
import { ScriptDeadlines } from '@nest-hardening/redis';
import { createTestRedis, type TestRedis } from '@nest-hardening/testing';

import { MemorySessionStore } from './memory-session.store';
import { RedisSessionStore } from './redis-session.store';
import { SessionFingerprinter, type SessionFingerprint } from './session-fingerprint';
import type { RotationRequest, SessionStore } from './session.store';
import { StaleAuthorizationError } from './sessions.errors';
import { sessionsKeys } from './sessions.keys';

/** How a variant reaches behind its store, as a restored copy or a lost write would. */
interface StoreVariant {
  store: SessionStore;
  /** Sets the user's authorization version without ending any session. */
  setAuthVersionBehindTheStore(userId: string, version: number): Promise<void>;
  cleanup(): Promise<void>;
}

async function redisVariant(): Promise<StoreVariant> {
  // A prefix that itself contains ':s:' (valid: no braces, no spaces), as the session-hash names do.
  const redis: TestRedis = await createTestRedis('sessions:s');
  return {
    store: new RedisSessionStore(redis.client, { url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 2000 }),
    setAuthVersionBehindTheStore: async (userId, version) => {
      await redis.client.set(sessionsKeys.authVersion(userId), String(version));
    },
    cleanup: () => redis.cleanup(),
  };
}

async function memoryVariant(): Promise<StoreVariant> {
  const store = new MemorySessionStore();
  return {
    store,
    setAuthVersionBehindTheStore: async (userId, version) => {
      // The test reaches into the store's state the way the Redis variant writes the key directly.
      (store as unknown as { users: Map<string, { authVersion: number }> }).users.get(userId)!.authVersion = version;
    },
    cleanup: async () => undefined,
  };
}

/** The same rules, held by the Redis scripts (real Redis) and by the in-memory store for adopters' unit tests. */
describe.each([
  ['redis', redisVariant],
  ['memory', memoryVariant],
])('SessionStore (%s)', (_name, makeVariant) => {
  let variant: StoreVariant;
  let store: SessionStore;
  const fingerprinter = new SessionFingerprinter('a fingerprint secret of 32+ characters', 24, 64);
  const client = { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' };
  const fingerprint = fingerprinter.fingerprint(client);
  let userCounter = 0;

  beforeAll(async () => {
    variant = await makeVariant();
    store = variant.store;
  });

  afterAll(() => variant?.cleanup());

  const newUserId = () => `00000000-0000-4000-8000-${String(++userCounter).padStart(12, '0')}`;

  async function createSession(
    overrides: {
      userId?: string;
      idleTtlMs?: number;
      absoluteTtlMs?: number;
      maxSessions?: number;
      authVersion?: number;
      fingerprint?: SessionFingerprint;
    } = {},
  ) {
    const userId = overrides.userId ?? newUserId();
    const { session, evicted } = await store.create({
      userId,
      role: 'user',
      client,
      fingerprint: overrides.fingerprint ?? fingerprint,
      idleTtlMs: overrides.idleTtlMs ?? 60_000,
      absoluteTtlMs: overrides.absoluteTtlMs ?? 120_000,
      maxSessions: overrides.maxSessions ?? 10,
      authVersion: overrides.authVersion ?? 0,
    });
    return { userId, sessionId: session.id, session, evicted };
  }

  const rotate = (s: { userId: string; sessionId: string }, presentedGeneration: number, overrides: Partial<RotationRequest> = {}) =>
    store.rotate({
      userId: s.userId,
      sessionId: s.sessionId,
      presentedGeneration,
      fingerprint,
      graceMs: 10_000,
      idleTtlMs: 60_000,
      userAgentPolicy: 'strict',
      ipPolicy: 'log',
      ...overrides,
    });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** The per-request check for an access token of the session that was never denylisted. */
  const exists = (s: { userId: string; sessionId: string }) => store.isActive(s.userId, s.sessionId, 'jti-never-denied');

  it('create and list: the session is live and listed without any token material', async () => {
    const s = await createSession();
    expect(await exists(s)).toBe(true);
    const [listed] = await store.list(s.userId);
    expect(listed).toEqual(s.session);
    expect(listed).toMatchObject({ userId: s.userId, role: 'user', ip: client.ip, device: expect.any(String) });
    expect(listed.expiresAt.getTime()).toBe(listed.createdAt.getTime() + 60_000);
    expect(listed.absoluteExpiresAt.getTime()).toBe(listed.createdAt.getTime() + 120_000);
    expect(await store.list(newUserId())).toEqual([]);
  });

  it('rotated: the current generation becomes the next, and the session stays', async () => {
    const s = await createSession();
    const result = await rotate(s, 0);
    expect(result).toMatchObject({ outcome: 'rotated', generation: 1, role: 'user', userAgentMismatch: false, ipMismatch: false });
    expect(result.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(await exists(s)).toBe(true);
    expect((await rotate(s, 1)).outcome).toBe('rotated');
  });

  it('grace: the just-rotated generation inside the window gets the same successor, and rotates nothing', async () => {
    const s = await createSession();
    expect((await rotate(s, 0)).generation).toBe(1);
    const again = await rotate(s, 0);
    expect(again).toMatchObject({ outcome: 'grace', generation: 1 });
    const third = await rotate(s, 0);
    expect(third).toMatchObject({ outcome: 'grace', generation: 1 });
    // The successor is still the current one.
    expect(await rotate(s, 1)).toMatchObject({ outcome: 'rotated', generation: 2 });
  });

  it('reuse: the just-rotated generation after the window ends the session', async () => {
    const s = await createSession();
    await rotate(s, 0, { graceMs: 100 });
    await sleep(250);
    expect((await rotate(s, 0, { graceMs: 100 })).outcome).toBe('reuse');
    expect(await exists(s)).toBe(false);
    expect((await rotate(s, 1)).outcome).toBe('invalid');
  });

  it('reuse: an older generation ends the session even inside the window', async () => {
    const s = await createSession();
    await rotate(s, 0);
    await rotate(s, 1);
    expect((await rotate(s, 0)).outcome).toBe('reuse');
    expect(await exists(s)).toBe(false);
    expect(await store.list(s.userId)).toEqual([]);
  });

  it('reuse: with a grace window of 0, even a replay in the same millisecond ends the session', async () => {
    // Pipelined, the two calls run back to back on the server, usually within one millisecond:
    // "0 disables the window" must hold there too.
    for (let i = 0; i < 20; i++) {
      const s = await createSession();
      const [first, replay] = await Promise.all([rotate(s, 0, { graceMs: 0 }), rotate(s, 0, { graceMs: 0 })]);
      expect(first.outcome).toBe('rotated');
      expect(replay.outcome).toBe('reuse');
    }
  });

  it('concurrent refreshes with one token yield one successor, never two live branches', async () => {
    const s = await createSession();
    const results = await Promise.all(Array.from({ length: 10 }, () => rotate(s, 0)));
    expect(results.filter((r) => r.outcome === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'grace')).toHaveLength(9);
    expect(new Set(results.map((r) => r.generation))).toEqual(new Set([1]));
  });

  it('fingerprint: a different user agent under strict ends the session; under log it rotates and reports', async () => {
    const other = fingerprinter.fingerprint({ ...client, userAgent: 'curl/8.0' });
    const strict = await createSession();
    expect(await rotate(strict, 0, { fingerprint: other })).toMatchObject({ outcome: 'fingerprint', userAgentMismatch: true });
    expect(await exists(strict)).toBe(false);

    const logged = await createSession();
    expect(await rotate(logged, 0, { fingerprint: other, userAgentPolicy: 'log' })).toMatchObject({
      outcome: 'rotated',
      userAgentMismatch: true,
      ipMismatch: false,
    });
  });

  it('fingerprint: another network is reported under log and refused under strict', async () => {
    const elsewhere = fingerprinter.fingerprint({ ...client, ip: '198.51.100.1' });
    const sameNet = fingerprinter.fingerprint({ ...client, ip: '203.0.113.200' });
    const s = await createSession();
    expect(await rotate(s, 0, { fingerprint: sameNet, ipPolicy: 'strict' })).toMatchObject({ outcome: 'rotated', ipMismatch: false });
    expect(await rotate(s, 1, { fingerprint: elsewhere })).toMatchObject({ outcome: 'rotated', ipMismatch: true });
    expect(await rotate(s, 2, { fingerprint: elsewhere, ipPolicy: 'strict' })).toMatchObject({ outcome: 'fingerprint' });
  });

  it('fingerprint: one stored under the previous secret matches, and the rotation moves it to the current secret', async () => {
    const previous = new SessionFingerprinter('the previous fingerprint secret, 32+ chars', 24, 64);
    const underPrevious = previous.fingerprint(client);
    const s = await createSession({ fingerprint: underPrevious });
    const overlap = { fingerprint, previousFingerprint: underPrevious, ipPolicy: 'strict' };
    expect(await rotate(s, 0, overlap)).toMatchObject({ outcome: 'rotated', userAgentMismatch: false, ipMismatch: false });
    // After the overlap ends, the session still matches: it now holds the current-secret values.
    expect(await rotate(s, 1, { ipPolicy: 'strict' })).toMatchObject({ outcome: 'rotated', userAgentMismatch: false, ipMismatch: false });
    expect(await rotate(s, 2, { fingerprint: underPrevious })).toMatchObject({ outcome: 'fingerprint', userAgentMismatch: true });
  });

  it('invalid: an unknown session, and a generation never issued', async () => {
    expect((await rotate({ userId: newUserId(), sessionId: 'AAAAAAAAAAAAAAAAAAAAAA' }, 0)).outcome).toBe('invalid');
    const s = await createSession();
    expect((await rotate(s, 5)).outcome).toBe('invalid');
    expect(await exists(s)).toBe(true);
  });

  it('invalid: an idle-expired session; rotation never moves expiry past the absolute limit', async () => {
    const idle = await createSession({ idleTtlMs: 300 });
    await sleep(500);
    expect((await rotate(idle, 0)).outcome).toBe('invalid');
    expect(await exists(idle)).toBe(false);
    expect(await store.list(idle.userId)).toEqual([]);

    const capped = await createSession({ idleTtlMs: 60_000, absoluteTtlMs: 2_000 });
    const rotated = await rotate(capped, 0, { idleTtlMs: 60_000 });
    expect(rotated.outcome).toBe('rotated');
    expect(rotated.expiresAt.getTime()).toBeLessThanOrEqual(capped.session.absoluteExpiresAt.getTime());
  });

  it('create: enforces the per-user cap by ending the session nearest expiry', async () => {
    const userId = newUserId();
    const a = await createSession({ userId, maxSessions: 2 });
    await sleep(20);
    const b = await createSession({ userId, maxSessions: 2 });
    await sleep(20); // distinct milliseconds, so the order of expiries is unambiguous
    await rotate(a, 0); // a is now the most recently refreshed
    const c = await createSession({ userId, maxSessions: 2 });
    expect(c.evicted).toEqual([b.sessionId]);
    expect(await exists(b)).toBe(false);
    expect((await store.list(userId)).map((s) => s.id).sort()).toEqual([a.sessionId, c.sessionId].sort());
  });

  it('create at the cap after the idle limit was lowered: the older sessions end, never the new one', async () => {
    // Sessions made under the old limit expire after any new one: the nearest expiry is the new session's own.
    const userId = newUserId();
    const old = await createSession({ userId, idleTtlMs: 600_000, absoluteTtlMs: 3_600_000, maxSessions: 1 });
    const fresh = await createSession({ userId, idleTtlMs: 60_000, absoluteTtlMs: 3_600_000, maxSessions: 1 });
    expect(fresh.evicted).toEqual([old.sessionId]);
    expect(await exists(fresh)).toBe(true);
    expect((await store.list(userId)).map((s) => s.id)).toEqual([fresh.sessionId]);

    // Above a cap of 1, the other session nearest its end is the one ended.
    const other = newUserId();
    const longest = await createSession({ userId: other, idleTtlMs: 900_000, absoluteTtlMs: 3_600_000, maxSessions: 2 });
    const longer = await createSession({ userId: other, idleTtlMs: 600_000, absoluteTtlMs: 3_600_000, maxSessions: 2 });
    const short = await createSession({ userId: other, idleTtlMs: 60_000, absoluteTtlMs: 3_600_000, maxSessions: 2 });
    expect(short.evicted).toEqual([longer.sessionId]);
    expect((await store.list(other)).map((s) => s.id).sort()).toEqual([longest.sessionId, short.sessionId].sort());
  });

  it('create after the absolute limit was lowered: the older sessions stay listed and are ended by revoke-others and an authorization change', async () => {
    // A session made under the old (longer) absolute limit outlives a login made under the new one.
    const userId = newUserId();
    const old = await createSession({ userId, idleTtlMs: 60_000, absoluteTtlMs: 600_000 });
    const other = await createSession({ userId, idleTtlMs: 60_000, absoluteTtlMs: 600_000 });
    await createSession({ userId, idleTtlMs: 300, absoluteTtlMs: 300 });
    await sleep(500);
    expect((await store.list(userId)).map((s) => s.id).sort()).toEqual([old.sessionId, other.sessionId].sort());
    // "Log out other devices" from `other`.
    expect(await store.revokeOthers(userId, other.sessionId)).toEqual([old.sessionId]);
    expect(await exists(old)).toBe(false);
    // A password change elsewhere (or an admin) ends it too, access tokens included.
    expect(await store.advanceAuthVersion(userId, 1)).toEqual([other.sessionId]);
    expect(await exists(other)).toBe(false);
  });

  it('create: concurrent logins at a cap of 1 never return a session they ended, and leave exactly one live', async () => {
    // Logins in the same millisecond share an expiry: ties must not pick the session being created.
    const userId = newUserId();
    const results = await Promise.all(Array.from({ length: 40 }, () => createSession({ userId, idleTtlMs: 60_000, maxSessions: 1 })));
    expect(results.filter((r) => r.evicted.includes(r.sessionId)).map((r) => r.sessionId)).toEqual([]);
    const live = await store.list(userId);
    expect(live).toHaveLength(1);
    // Every other session was ended by exactly one later login.
    const ids = results.map((r) => r.sessionId);
    expect(ids).toContain(live[0].id);
    expect(results.flatMap((r) => r.evicted).sort()).toEqual(ids.filter((id) => id !== live[0].id).sort());
  });

  it('revoke: one, others, all; an unknown id ends nothing', async () => {
    const userId = newUserId();
    const [a, b, c] = [await createSession({ userId }), await createSession({ userId }), await createSession({ userId })];
    expect(await store.revoke(userId, 'AAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
    expect(await store.revoke(newUserId(), a.sessionId)).toBe(false);
    expect(await store.revoke(userId, a.sessionId)).toBe(true);
    expect(await exists(a)).toBe(false);
    expect(await store.revoke(userId, a.sessionId)).toBe(false);
    expect(await store.revokeOthers(userId, b.sessionId)).toEqual([c.sessionId]);
    expect((await store.list(userId)).map((s) => s.id)).toEqual([b.sessionId]);
    expect(await store.revokeAll(userId)).toEqual([b.sessionId]);
    expect(await store.list(userId)).toEqual([]);
    expect(await exists(b)).toBe(false);
  });

  it('revoke others: keeping a session that has ended ends nothing (two devices each ending the others leave one)', async () => {
    const userId = newUserId();
    const [a, b, c] = [await createSession({ userId }), await createSession({ userId }), await createSession({ userId })];
    expect((await store.revokeOthers(userId, a.sessionId))?.sort()).toEqual([b.sessionId, c.sessionId].sort());
    // Device b asked for the same at the same moment, after a's request ended b.
    expect(await store.revokeOthers(userId, b.sessionId)).toBeUndefined();
    expect(await store.revokeOthers(userId, 'AAAAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
    expect(await store.revokeOthers(newUserId(), a.sessionId)).toBeUndefined();
    expect((await store.list(userId)).map((s) => s.id)).toEqual([a.sessionId]);
    expect(await exists(a)).toBe(true);
  });

  it('authorization version: no session is created under an older version than the current one', async () => {
    const userId = newUserId();
    const before = await createSession({ userId });
    expect(await store.advanceAuthVersion(userId, 3)).toEqual([before.sessionId]);
    expect(await exists(before)).toBe(false);
    await expect(createSession({ userId, authVersion: 2 })).rejects.toBeInstanceOf(StaleAuthorizationError);
    expect(await store.list(userId)).toEqual([]);
    const current = await createSession({ userId, authVersion: 3 });
    expect((await store.list(userId)).map((x) => x.id)).toEqual([current.sessionId]);
  });

  it('authorization version: advancing keeps the named session (refreshable) and never goes down', async () => {
    const userId = newUserId();
    const [keep, other] = [await createSession({ userId }), await createSession({ userId })];
    expect(await store.advanceAuthVersion(userId, 1, keep.sessionId)).toEqual([other.sessionId]);
    expect((await rotate(keep, 0)).outcome).toBe('rotated');
    expect((await rotate(other, 0)).outcome).toBe('invalid');
    // A late call with an older version ends what it must but does not lower the version.
    expect(await store.advanceAuthVersion(userId, 0, keep.sessionId)).toEqual([]);
    await expect(createSession({ userId, authVersion: 0 })).rejects.toBeInstanceOf(StaleAuthorizationError);
    // ...nor the kept session's: it stays on the current version and keeps refreshing.
    expect((await rotate(keep, 1)).outcome).toBe('rotated');
  });

  it('authorization version: the named session is kept only if it was created under the version its check read', async () => {
    // An admin's change (version 1) is in the database but not yet here when the session's owner
    // changes the password, reading version 1: the session, created under 0, ends like the others.
    const userId = newUserId();
    const [stale, other] = [await createSession({ userId }), await createSession({ userId })];
    expect((await store.advanceAuthVersion(userId, 2, stale.sessionId, 1)).sort()).toEqual([stale.sessionId, other.sessionId].sort());
    // Read at the session's own version, it is kept as before.
    const current = await createSession({ userId, authVersion: 2 });
    expect(await store.advanceAuthVersion(userId, 3, current.sessionId, 2)).toEqual([]);
    expect((await rotate(current, 0)).outcome).toBe('rotated');
  });

  it('authorization version: a session created under the new version outlives the advance to it, late or repeated', async () => {
    // A login that read the new version from the database before the advance reached this store
    // (or before a retry of it after the store failed) logged in with the new credentials.
    const userId = newUserId();
    const [keep, old] = [await createSession({ userId }), await createSession({ userId })];
    const fresh = await createSession({ userId, authVersion: 1 });
    expect(await store.advanceAuthVersion(userId, 1, keep.sessionId)).toEqual([old.sessionId]);
    expect(await store.advanceAuthVersion(userId, 1, keep.sessionId)).toEqual([]);
    expect((await store.list(userId)).map((x) => x.id).sort()).toEqual([keep.sessionId, fresh.sessionId].sort());
    expect((await rotate(fresh, 0)).outcome).toBe('rotated');
  });

  it('authorization version: a session left over from an older version cannot be refreshed', async () => {
    const userId = newUserId();
    const stale = await createSession({ userId, authVersion: 0 });
    // As if the version moved on without this session being ended (a copy restored, a lost write).
    await variant.setAuthVersionBehindTheStore(userId, 1);
    expect((await rotate(stale, 0)).outcome).toBe('invalid');
    expect(await exists(stale)).toBe(false);
  });

  it('grace: a replay of the just-rotated token from another network is reuse, not grace', async () => {
    const elsewhere = fingerprinter.fingerprint({ ...client, ip: '198.51.100.1' });
    const sameNet = fingerprinter.fingerprint({ ...client, ip: '203.0.113.77' });
    const a = await createSession();
    await rotate(a, 0);
    expect(await rotate(a, 0, { fingerprint: sameNet })).toMatchObject({ outcome: 'grace', generation: 1 });
    expect(await rotate(a, 0, { fingerprint: elsewhere })).toMatchObject({ outcome: 'reuse' });
    expect(await exists(a)).toBe(false);

    const off = await createSession();
    await rotate(off, 0);
    expect(await rotate(off, 0, { fingerprint: elsewhere, ipPolicy: 'off' })).toMatchObject({ outcome: 'grace' });
  });

  it('credential checks: concurrent checks of one session pass at most the allowance, then the session ends', async () => {
    const s = await createSession();
    const checks = await Promise.all(Array.from({ length: 50 }, () => store.reserveCredentialCheck(s.userId, s.sessionId, 5)));
    expect(checks.filter((n) => n > 0).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    expect(checks.filter((n) => n === 0)).toHaveLength(1);
    expect(checks.filter((n) => n === -1)).toHaveLength(44);
    expect(await exists(s)).toBe(false);
  });

  it('credential checks: a success starts the count again', async () => {
    const s = await createSession();
    for (let i = 1; i <= 4; i++) expect(await store.reserveCredentialCheck(s.userId, s.sessionId, 5)).toBe(i);
    await store.resetCredentialChecks(s.userId, s.sessionId);
    expect(await store.reserveCredentialCheck(s.userId, s.sessionId, 5)).toBe(1);
  });

  it('logout: ends the session and denylists the token until it expires; a token already dead is refused', async () => {
    const userId = newUserId();
    const [s, other] = [await createSession({ userId }), await createSession({ userId })];
    // At least 2 s of token life, so a slow machine cannot see the denylist entry expire before the checks below.
    const exp = Math.floor(Date.now() / 1000) + 3;
    expect(await store.logout(userId, s.sessionId, 'jti-logout', exp)).toBe(true);
    expect(await exists(s)).toBe(false);
    expect((await store.list(userId)).map((x) => x.id)).toEqual([other.sessionId]);
    // The denylist is by token id: the same jti is refused even with a live session of the user.
    expect(await store.isActive(userId, other.sessionId, 'jti-logout')).toBe(false);
    // A second logout with the same token reports it was no longer live.
    expect(await store.logout(userId, other.sessionId, 'jti-logout', exp)).toBe(false);
    // An already expired token leaves no denylist entry behind.
    const [ending, live] = [await createSession({ userId }), await createSession({ userId })];
    expect(await store.logout(userId, ending.sessionId, 'jti-expired', Math.floor(Date.now() / 1000) - 1)).toBe(true);
    expect(await store.isActive(userId, live.sessionId, 'jti-expired')).toBe(true);
    // The entry ends with the token it denies.
    await sleep(exp * 1000 - Date.now() + 50);
    expect(await store.isActive(userId, live.sessionId, 'jti-logout')).toBe(true);
  });
});

describe('RedisSessionStore when Redis keeps running its writes late', () => {
  let redis: TestRedis;
  let store: RedisSessionStore;
  const fingerprint = new SessionFingerprinter('a fingerprint secret of 32+ characters', 24, 64).fingerprint({
    ip: '203.0.113.7',
    userAgent: 'jest-unit/1.0',
  });

  beforeAll(async () => {
    redis = await createTestRedis('sessions-late');
    store = new RedisSessionStore(redis.client, { url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 2000 });
  });
  afterAll(() => redis?.cleanup());

  // Past its deadline twice (a Redis clock that stepped forward), the rotation changed nothing: it is
  // answered like a timeout (503), and the token the client holds is still the current one.
  it('fails as Redis unavailable and leaves the presented generation current', async () => {
    const userId = '00000000-0000-4000-8000-0000000001a7';
    const { session } = await store.create({
      userId,
      role: 'user',
      client: { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' },
      fingerprint,
      idleTtlMs: 60_000,
      absoluteTtlMs: 120_000,
      maxSessions: 10,
      authVersion: 0,
    });
    const request = {
      userId,
      sessionId: session.id,
      presentedGeneration: 0,
      fingerprint,
      graceMs: 0,
      idleTtlMs: 60_000,
      userAgentPolicy: 'strict' as const,
      ipPolicy: 'log' as const,
    };
    const late = jest.spyOn(ScriptDeadlines.prototype, 'deadline').mockReturnValue(1);
    try {
      await expect(store.rotate(request)).rejects.toBeInstanceOf(DependencyUnavailableError);
    } finally {
      late.mockRestore();
    }
    expect(await store.rotate(request)).toMatchObject({ outcome: 'rotated', generation: 1 });
  });

  // A password change answered 503 verified no password: run late, its check must not spend the
  // session's allowance (the last one would end the session as if it had guessed wrong).
  it("a current-password check past its deadline fails as Redis unavailable and spends none of the session's checks", async () => {
    const userId = '00000000-0000-4000-8000-0000000001a8';
    const { session } = await store.create({
      userId,
      role: 'user',
      client: { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' },
      fingerprint,
      idleTtlMs: 60_000,
      absoluteTtlMs: 120_000,
      maxSessions: 10,
      authVersion: 0,
    });
    const late = jest.spyOn(ScriptDeadlines.prototype, 'deadline').mockReturnValue(1);
    try {
      await expect(store.reserveCredentialCheck(userId, session.id, 1)).rejects.toBeInstanceOf(DependencyUnavailableError);
    } finally {
      late.mockRestore();
    }
    expect(await store.reserveCredentialCheck(userId, session.id, 1)).toBe(1);
    expect(await store.isActive(userId, session.id, 'jti-never-denied')).toBe(true);
  });
});
