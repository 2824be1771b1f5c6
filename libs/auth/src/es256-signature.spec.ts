import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';

import { sign, verify as verifyJwt } from 'jsonwebtoken';

import { hasCanonicalEs256Signature, withLowS } from './es256-signature';

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The token with s replaced by n − s: a different string that plain ECDSA still verifies. */
function twin(token: string): string {
  const [h, p, sig] = token.split('.');
  const bytes = Buffer.from(sig, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${h}.${p}.${Buffer.concat([bytes.subarray(0, 32), flipped]).toString('base64url')}`;
}

function verifiesWithCrypto(token: string, publicKey: ReturnType<typeof createPublicKey>): boolean {
  const at = token.lastIndexOf('.');
  return verify(
    'sha256',
    Buffer.from(token.slice(0, at)),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(token.slice(at + 1), 'base64url'),
  );
}

describe('ES256 signatures: one spelling per token', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tokens = Array.from({ length: 64 }, (_, i) => sign({ i }, privateKey, { algorithm: 'ES256' }));

  it('normalises every signature to low s, and the result still verifies everywhere', () => {
    for (const token of tokens) {
      const low = withLowS(token);
      expect(hasCanonicalEs256Signature(low)).toBe(true);
      expect(verifiesWithCrypto(low, publicKey)).toBe(true);
      expect(() => verifyJwt(low, publicKey, { algorithms: ['ES256'] })).not.toThrow();
    }
  });

  it('refuses the high-s twin of a valid token, which plain ECDSA accepts', () => {
    for (const token of tokens.map(withLowS)) {
      const high = twin(token);
      expect(verifiesWithCrypto(high, publicKey)).toBe(true);
      expect(hasCanonicalEs256Signature(high)).toBe(false);
      expect(withLowS(high)).toBe(token);
    }
  });

  it('refuses other spellings of the signature bytes and signatures of the wrong size', () => {
    const token = withLowS(tokens[0]);
    const [h, p, sig] = token.split('.');
    // 86 characters hold 516 bits: the last one has 4 spare bits that decoders ignore.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spare = last[last.indexOf(sig[85]) + 1];
    expect(Buffer.from(sig.slice(0, 85) + spare, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    expect(hasCanonicalEs256Signature(`${h}.${p}.${sig.slice(0, 85)}${spare}`)).toBe(false);
    expect(hasCanonicalEs256Signature(`${h}.${p}.${sig}=`)).toBe(false);
    expect(hasCanonicalEs256Signature(`${h}.${p}.${sig.slice(0, 84)}`)).toBe(false);
    expect(hasCanonicalEs256Signature(`${h}.${p}.`)).toBe(false);
    expect(hasCanonicalEs256Signature(`${h}.${p}.${'A'.repeat(86)}`)).toBe(false);
  });
});
