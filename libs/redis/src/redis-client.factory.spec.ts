import { redactRedisUrl } from './redis-client.factory';

describe('redactRedisUrl', () => {
  it('drops the credentials, given in the user part or as a query parameter (ioredis reads both)', () => {
    for (const url of ['redis://user:S3cret-redis-password@127.0.0.1:6379/0', 'redis://127.0.0.1:6379/0?password=S3cret-redis-password']) {
      const redacted = redactRedisUrl(url);
      expect(redacted).toContain('127.0.0.1:6379');
      expect(redacted).not.toContain('S3cret-redis-password');
    }
  });

  // WHATWG URL reads no password in a url without `//`, but ioredis does (user `rediss`, password `user:…`).
  it('shows nothing of a url with credentials but no // before them', () => {
    for (const url of ['rediss:user:S3cret-redis-password@127.0.0.1:6379', 'redis:\\\\user:S3cret-redis-password@127.0.0.1:6379']) {
      expect(redactRedisUrl(url)).toBe('(unparseable REDIS_URL)');
    }
  });
});
