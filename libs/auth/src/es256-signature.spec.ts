import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';

import { jwtVerify } from 'jose';
import { decode, sign, verify as verifyJwt } from 'jsonwebtoken';

import { es256JwtHeader, hasCanonicalEs256Signature, signEs256Jwt, withLowS } from './es256-signature';

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

describe('signEs256Jwt: the issuer signs without a JWT library', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const header = es256JwtHeader('key-1');
  const claims = (i: number) => ({
    sub: `user-${i}`,
    sid: 'session',
    role: 'user',
    jti: `jti-${i}`,
    iat: 1_000,
    exp: 2_000,
    iss: 'auth-service',
    aud: 'payments-api',
  });
  // 64 signatures: with s uniform, the chance that none came out high (and low-s went untested) is 2^-64.
  const tokens = Array.from({ length: 64 }, (_, i) => signEs256Jwt(header, claims(i), privateKey));

  it('writes a JWT that jsonwebtoken and jose verify, with its header and claims as given', async () => {
    for (const [i, token] of tokens.entries()) {
      const verified = verifyJwt(token, publicKey, {
        algorithms: ['ES256'],
        issuer: 'auth-service',
        audience: 'payments-api',
        clockTimestamp: 1_500,
      });
      expect(verified).toEqual(claims(i));
      expect(decode(token, { complete: true })?.header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'key-1' });
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
        algorithms: ['ES256'],
        issuer: 'auth-service',
        audience: 'payments-api',
        currentDate: new Date(1_500_000),
      });
      expect(payload).toEqual(claims(i));
      expect(protectedHeader.kid).toBe('key-1');
    }
  });

  it('signs in the one spelling verifiers accept: low s, canonical base64url', () => {
    for (const token of tokens) {
      expect(hasCanonicalEs256Signature(token)).toBe(true);
      expect(withLowS(token)).toBe(token);
    }
  });
});
