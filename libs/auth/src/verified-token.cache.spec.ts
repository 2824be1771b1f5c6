import type { AuthenticatedUser } from './authenticated-user.interface';
import { VerifiedTokenCache } from './verified-token.cache';

const user = (expInSeconds: number): AuthenticatedUser => ({
  id: 'u',
  sessionId: 's',
  role: 'user',
  jti: 'j',
  exp: Math.floor(Date.now() / 1000) + expInSeconds,
});

describe('VerifiedTokenCache', () => {
  it('returns a verified token until it expires', () => {
    const cache = new VerifiedTokenCache();
    cache.set('a.b.c', user(60), 1);
    expect(cache.get('a.b.c', 1)?.id).toBe('u');
    cache.set('d.e.f', user(-1), 1);
    expect(cache.get('d.e.f', 1)).toBeUndefined();
  });

  it('matches the exact token string only', () => {
    const cache = new VerifiedTokenCache();
    cache.set('a.b.c', user(60), 1);
    expect(cache.get('a.b.C', 1)).toBeUndefined();
    expect(cache.get('a.b.c ', 1)).toBeUndefined();
  });

  it('does not take a token that only ends like a cached one for it', () => {
    const cache = new VerifiedTokenCache();
    const signature = 'S'.repeat(86);
    cache.set(`header.payload.${signature}`, user(60), 1);
    expect(cache.get(`header.forged.${signature}`, 1)).toBeUndefined();
    expect(cache.get(`header.payload.${signature}`, 1)?.id).toBe('u');
  });

  it('forgets everything verified under another key set (a key was withdrawn)', () => {
    const cache = new VerifiedTokenCache();
    cache.set('a.b.c', user(60), 1);
    expect(cache.get('a.b.c', 2)).toBeUndefined();
    expect(cache.get('a.b.c', 1)).toBeUndefined();
  });

  it('stays within its bound, evicting the oldest entry', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('t1', user(60), 1);
    cache.set('t2', user(60), 1);
    cache.set('t3', user(60), 1);
    expect(cache.get('t1', 1)).toBeUndefined();
    expect(cache.get('t2', 1)).toBeDefined();
    expect(cache.get('t3', 1)).toBeDefined();
  });

  it('caches nothing when disabled', () => {
    const cache = new VerifiedTokenCache(0);
    cache.set('t1', user(60), 1);
    expect(cache.get('t1', 1)).toBeUndefined();
  });
});
