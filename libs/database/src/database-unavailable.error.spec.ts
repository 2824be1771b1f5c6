import { DatabaseUnavailableError } from './database-unavailable.error';

describe('DatabaseUnavailableError', () => {
  it('names the database without its password, given in the user part or as a query parameter (pg reads both)', () => {
    for (const url of [
      'postgres://app:S3cret-db-password@127.0.0.1:1/auth',
      'postgres://app@127.0.0.1:1/auth?password=S3cret-db-password',
    ]) {
      const message = new DatabaseUnavailableError(url, new Error('connect ECONNREFUSED 127.0.0.1:1')).message;
      expect(message).toContain('127.0.0.1:1/auth');
      expect(message).not.toContain('S3cret-db-password');
    }
  });
});
