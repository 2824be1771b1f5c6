import { MemorySessionStore } from './memory-session.store';
import type { NewSession } from './session.store';

/** What only the in-memory store must prove: its memory stays bounded by live sessions and tokens. */
describe('MemorySessionStore', () => {
  const session = (userId: string, idleTtlMs = 1_000): NewSession => ({
    userId,
    role: 'user',
    client: { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' },
    fingerprint: { userAgent: 'fp-ua', ip: 'fp-ip' },
    idleTtlMs,
    absoluteTtlMs: 10_000,
    maxSessions: 10,
    authVersion: 0,
  });

  it('drops users whose sessions and denylisted tokens have all expired, without them being touched again', async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore(() => now);
    for (let i = 0; i < 500; i++) await store.create(session(`user-${i}`));
    const { session: kept } = await store.create(session('stays', 60_000));
    expect(await store.logout('stays', 'AAAAAAAAAAAAAAAAAAAAAA', 'jti-1', (now + 5_000) / 1000)).toBe(false);
    expect(store.userCount).toBe(501);

    now += 2_000; // every user-<i> session is past its idle limit
    for (let i = 0; i < 600; i++) await store.isActive('stays', kept.id, 'jti-other');
    expect(store.userCount).toBe(1);
    expect(await store.isActive('stays', kept.id, 'jti-1')).toBe(false);

    now += 5_000; // the denylisted token has expired too
    for (let i = 0; i < 200; i++) await store.isActive('stays', kept.id, 'jti-other');
    expect(await store.isActive('stays', kept.id, 'jti-1')).toBe(true);
  });

  it("keeps a user's authorization version after their sessions end: an old login still cannot create one", async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore(() => now);
    await store.create(session('changed'));
    await store.advanceAuthVersion('changed', 2);
    now += 60_000;
    for (let i = 0; i < 200; i++) await store.list('someone-else');
    expect(store.userCount).toBe(1);
    await expect(store.create(session('changed'))).rejects.toThrow('Invalid email or password');
  });

  it('a read about an unknown user stores nothing', async () => {
    const store = new MemorySessionStore();
    expect(await store.isActive('nobody', 'AAAAAAAAAAAAAAAAAAAAAA', 'jti')).toBe(false);
    expect(await store.list('nobody')).toEqual([]);
    expect(await store.revokeAll('nobody')).toEqual([]);
    expect(await store.reserveCredentialCheck('nobody', 'AAAAAAAAAAAAAAAAAAAAAA', 5)).toBe(-1);
    expect(store.userCount).toBe(0);
  });
});
