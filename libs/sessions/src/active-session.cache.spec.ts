import { ActiveSessionCache } from './active-session.cache';

describe('ActiveSessionCache', () => {
  const answer = (sessionId: string, userId = 'u1') => ({ userId, sessionId, until: Date.now() + 500 });

  it('drops every token of a revoked session, and only those', () => {
    const cache = new ActiveSessionCache(100);
    cache.set('j1', answer('s1'));
    cache.set('j2', answer('s1'));
    cache.set('j3', answer('s2'));
    cache.dropSession('s1');
    expect(cache.get('j1')).toBeUndefined();
    expect(cache.get('j2')).toBeUndefined();
    expect(cache.get('j3')).toMatchObject({ sessionId: 's2' });
    expect(cache.size).toBe(1);
  });

  it("drops one denylisted token and keeps its session's others", () => {
    const cache = new ActiveSessionCache(100);
    cache.set('j1', answer('s1'));
    cache.set('j2', answer('s1'));
    cache.dropToken('j1');
    expect(cache.get('j1')).toBeUndefined();
    cache.dropSession('s1');
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest entry beyond its bound, and the index follows', () => {
    const cache = new ActiveSessionCache(2);
    cache.set('j1', answer('s1'));
    cache.set('j2', answer('s2'));
    cache.set('j3', answer('s3'));
    expect(cache.get('j1')).toBeUndefined();
    expect(cache.size).toBe(2);
    // The evicted token's session index is gone too: cached again under another session, revoking s1 keeps it.
    cache.set('j1', answer('s9'));
    cache.dropSession('s1');
    expect(cache.get('j1')).toMatchObject({ sessionId: 's9' });
  });

  it('a token cached again for another session is dropped with the new session, not the old', () => {
    const cache = new ActiveSessionCache(10);
    cache.set('j1', answer('s1'));
    cache.set('j1', answer('s2'));
    cache.dropSession('s1');
    expect(cache.get('j1')).toMatchObject({ sessionId: 's2' });
    cache.dropSession('s2');
    expect(cache.get('j1')).toBeUndefined();
  });
});
