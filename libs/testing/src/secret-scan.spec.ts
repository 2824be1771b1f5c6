import { secretsFoundIn } from './secret-scan';

describe('secretsFoundIn', () => {
  const secret = 'refresh-secret-0f1e2d3c4b5a69788796a5b4';

  it('finds a secret written base64 or base64url (a Basic credential, an encoded cookie), not only as text', () => {
    for (const encoding of ['base64', 'base64url'] as const) {
      expect(secretsFoundIn({ log: `header ${Buffer.from(secret).toString(encoding)}` }, { secret })).toEqual(['log: secret']);
    }
  });

  it('finds a secret base64-encoded after other bytes (the password of user:password in a Basic credential)', () => {
    for (const user of ['u', 'us', 'usr']) {
      expect(secretsFoundIn({ log: Buffer.from(`${user}:${secret}`).toString('base64') }, { secret })).toEqual(['log: secret']);
    }
  });

  it('finds nothing in a text without the secret', () => {
    expect(secretsFoundIn({ log: 'nothing here' }, { secret })).toEqual([]);
  });
});
