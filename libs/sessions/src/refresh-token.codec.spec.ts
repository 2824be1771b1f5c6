import { randomBytes, randomUUID } from 'node:crypto';

import { RefreshTokenCodec } from './refresh-token.codec';

describe('RefreshTokenCodec', () => {
  const codec = new RefreshTokenCodec('a refresh token secret of at least 32 chars');
  const parts = { userId: randomUUID(), sessionId: randomBytes(16).toString('base64url'), generation: 7 };

  it('decodes what it encodes', () => {
    const token = codec.encode(parts);
    expect(token.split('.')).toHaveLength(4);
    expect(codec.decode(token)).toEqual(parts);
  });

  it("during a secret rotation, accepts a token MAC'd with the previous secret and encodes with the new one", () => {
    const rotated = new RefreshTokenCodec('the next refresh token secret, 32+ chars', 'a refresh token secret of at least 32 chars');
    const old = codec.encode(parts);
    expect(rotated.decode(old)).toEqual(parts);
    const successor = rotated.encode({ ...parts, generation: 8 });
    expect(codec.decode(successor)).toBeUndefined();
    expect(new RefreshTokenCodec('the next refresh token secret, 32+ chars').decode(successor)).toEqual({ ...parts, generation: 8 });
    // Once the overlap ends, the old token is no longer authentic.
    expect(new RefreshTokenCodec('the next refresh token secret, 32+ chars').decode(old)).toBeUndefined();
  });

  it('derives the same token for the same generation and a different one for the next', () => {
    expect(codec.encode(parts)).toBe(codec.encode({ ...parts }));
    expect(codec.encode({ ...parts, generation: 8 })).not.toBe(codec.encode(parts));
  });

  it.each([
    ['another generation with the old MAC', (t: string) => t.replace('.7.', '.8.')],
    [
      'another session id with the old MAC',
      (t: string) => {
        const [u, , g, m] = t.split('.');
        return [u, randomBytes(16).toString('base64url'), g, m].join('.');
      },
    ],
    [
      'another user id with the old MAC',
      (t: string) => {
        const [, s, g, m] = t.split('.');
        return [randomUUID(), s, g, m].join('.');
      },
    ],
    ['a flipped MAC character', (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A')],
  ])('rejects a tampered token: %s', (_case, tamper) => {
    const tampered = tamper(codec.encode(parts));
    expect(tampered).not.toBe(codec.encode(parts));
    expect(codec.decode(tampered)).toBeUndefined();
  });

  it('rejects a token made with another secret (forged)', () => {
    const forger = new RefreshTokenCodec('someone else entirely, 32+ characters');
    expect(codec.decode(forger.encode(parts))).toBeUndefined();
  });

  it.each([
    ['undefined', undefined],
    ['a number', 42],
    ['an object', { token: 'x' }],
    ['an empty string', ''],
    ['garbage', 'not-a-token'],
    ['three parts', `${parts.userId}.${parts.sessionId}.${'A'.repeat(43)}`],
    ['a negative generation', `${parts.userId}.${parts.sessionId}.-1.${'A'.repeat(43)}`],
    ['a leading-zero generation', `${parts.userId}.${parts.sessionId}.07.${'A'.repeat(43)}`],
    ['a huge generation', `${parts.userId}.${parts.sessionId}.12345678901.${'A'.repeat(43)}`],
    ['a short MAC', `${parts.userId}.${parts.sessionId}.7.${'A'.repeat(42)}`],
    ['an upper-case user id', codec.encode(parts).toUpperCase()],
    ['trailing data', `${codec.encode(parts)}.x`],
    ['a leading space', ` ${codec.encode(parts)}`],
    ['a 10 kB string', 'A'.repeat(10_000)],
  ])('rejects a malformed token: %s', (_case, token) => {
    expect(codec.decode(token)).toBeUndefined();
  });
});
