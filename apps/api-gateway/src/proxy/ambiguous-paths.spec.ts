import { isAmbiguousPath } from './ambiguous-paths';

describe('isAmbiguousPath', () => {
  it.each([
    '/api/me/../auth/login',
    '/api/me/./sessions',
    '/api/me/..',
    '/api/me/%2e%2e/metrics',
    '/api/me/.%2E/metrics',
    '/api/me/%2E/sessions',
    '/api/me\\..\\auth\\login',
    '/api/me%2fsessions',
    '/api/me%5C..%5Cauth',
    // A segment ends at a fragment too: url.parse routes `/api/profile/..`, WHATWG resolves it away.
    '/api/profile/..#',
    '/api/me/sessions/x/.%2e#y',
    '/api/me/.#?x',
    'http://gw/api/me/../auth/login',
    'HTTP://gw:99999/api/accounts/%2e%2e/auth/login?x=1',
    'http://gw/api/profile/.#x',
  ])('refuses %s', (target) => expect(isAmbiguousPath(target)).toBe(true));

  it.each([
    '/api/me/sessions',
    '/api/me/sessions/a..b',
    '/api/profile/.well-known',
    '/api/profile/a..#b',
    '/api/me/sessions?cursor=a%2Fb/../c',
    '/.well-known/jwks.json',
    'http://gw/api/me/sessions?next=..%2f',
    '/',
  ])('lets %s through', (target) => expect(isAmbiguousPath(target)).toBe(false));
});
