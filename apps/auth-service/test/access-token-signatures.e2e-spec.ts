import { createPublicKey, sign as cryptoSign, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';

import { verify as verifyJwt } from 'jsonwebtoken';

import { withLowS } from '@nest-hardening/auth';

import { ecdsaTwin, rawRequest, registerAndLogin, startTestSystem, type TestSystem, type TestUser } from '../../../test/support';
import { AccessTokenIssuer } from '../src/keys/access-token.issuer';
import { SigningKeyService } from '../src/keys/signing-key.service';

/** Half the order of the P-256 group: a signature's s above it has a low twin n - s. */
const HALF_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n >> 1n;

function sOf(token: string): bigint {
  return BigInt(
    `0x${Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url')
      .subarray(32)
      .toString('hex')}`,
  );
}

/**
 * ECDSA signatures come in pairs: (r, s) and (r, n - s) both verify. auth-service issues the low-s
 * one only, and every service refuses the other, so each token has exactly one accepted string.
 */
describe('access-token signatures: one accepted spelling per token', () => {
  let system: TestSystem;
  let user: TestUser;
  let claims: { sub: string; sid: string };

  beforeAll(async () => {
    system = await startTestSystem({ label: 'token-signatures' });
    user = await registerAndLogin(system.gatewayUrl);
    claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString()) as { sub: string; sid: string };
  });
  afterAll(() => system?.close());

  async function publicKey(kid: string) {
    const jwks = JSON.parse((await rawRequest(system.authUrl, { method: 'GET', path: '/.well-known/jwks.json' })).body) as {
      keys: (JsonWebKey & { kid: string })[];
    };
    return createPublicKey({ key: jwks.keys.find((k) => k.kid === kid) as JsonWebKey, format: 'jwk' });
  }

  function verifiesWithPlainEcdsa(token: string, key: ReturnType<typeof createPublicKey>): boolean {
    const at = token.lastIndexOf('.');
    return cryptoVerify(
      'sha256',
      Buffer.from(token.slice(0, at)),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(token.slice(at + 1), 'base64url'),
    );
  }

  const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;
  const get = (url: string, path: string, token: string) =>
    rawRequest(url, { method: 'GET', path, headers: [['Authorization', `Bearer ${token}`]] });

  it('issues every access token with the low s, and a third-party verifier accepts them all', async () => {
    const issuer = system.auth.get(AccessTokenIssuer);
    const tokens = Array.from({ length: 200 }, () => issuer.issue(claims.sub, claims.sid, 'user'));
    const key = await publicKey(kidOf(tokens[0]));
    expect(tokens.filter((token) => sOf(token) > HALF_ORDER)).toEqual([]);
    for (const token of tokens) {
      expect(verifiesWithPlainEcdsa(token, key)).toBe(true);
      expect(() => verifyJwt(token, key, { algorithms: ['ES256'], issuer: 'auth-service', audience: 'payments-api' })).not.toThrow();
    }
  });

  it('refuses the high-s twin of a live token (401 at the gateway and at profile-service), though plain ECDSA accepts it', async () => {
    const twin = ecdsaTwin(user.accessToken);
    expect(twin).not.toBe(user.accessToken);
    expect(verifiesWithPlainEcdsa(twin, await publicKey(kidOf(twin)))).toBe(true);
    // The original first, so that it is verified and cached: the twin must not ride on it.
    expect((await get(system.gatewayUrl, '/api/me', user.accessToken)).status).toBe(200);
    expect((await get(system.profileUrl, '/profile', user.accessToken)).status).toBe(200);
    expect((await get(system.gatewayUrl, '/api/me', twin)).status).toBe(401);
    expect((await get(system.profileUrl, '/profile', twin)).status).toBe(401);
  });

  /** The live token's claims under another header, signed with auth-service's own key. */
  function signedWithHeader(extra: Record<string, unknown>): string {
    const signing = system.auth.get(SigningKeyService);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${b64({ alg: 'ES256', typ: 'JWT', kid: signing.keyId, ...extra })}.${user.accessToken.split('.')[1]}`;
    const signature = cryptoSign('sha256', Buffer.from(input), { key: signing.privateKey, dsaEncoding: 'ieee-p1363' });
    return withLowS(`${input}.${signature.toString('base64url')}`);
  }

  it('refuses a token whose header names critical extensions (RFC 7515 §4.1.11), even one signed with the real key', async () => {
    const control = signedWithHeader({ x5u: 'http://127.0.0.1:1/' });
    expect((await get(system.gatewayUrl, '/api/me', control)).status).toBe(200);
    for (const crit of [['exp'], ['b64'], ['urn:example:unknown'], [], 'b64']) {
      const token = signedWithHeader({ crit, b64: false, 'urn:example:unknown': true });
      expect([crit, (await get(system.gatewayUrl, '/api/me', token)).status]).toEqual([crit, 401]);
      expect([crit, (await get(system.profileUrl, '/profile', token)).status]).toEqual([crit, 401]);
    }
  });
});
