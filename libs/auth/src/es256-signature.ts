import { sign, type KeyObject } from 'node:crypto';

/**
 * ECDSA signatures are malleable: when (r, s) verifies, so does (r, n − s), so every ES256 token
 * has a twin with the same header, claims and key that plain verifiers accept (and base64url adds
 * more spellings of the same bytes). Tokens are cached and compared as strings, so each token must
 * have exactly one spelling: the issuer signs with the low s (s ≤ n/2, as Bitcoin's BIP 62 and
 * Ethereum's EIP-2 require), verifiers refuse anything else. Low-s tokens verify everywhere.
 */

/** Order of the P-256 group. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_ORDER = P256_ORDER >> 1n;

/** An ES256 signature in a JWS: r and s of 32 bytes each, base64url without padding. */
const SIGNATURE_LENGTH = 86;
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

/** The signature segment of a compact JWS (after the last dot). */
function signatureOf(jws: string): string {
  return jws.slice(jws.lastIndexOf('.') + 1);
}

function toBigInt(bytes: Buffer): bigint {
  return BigInt(`0x${bytes.toString('hex')}`);
}

/**
 * True when the token's signature is an ES256 signature in its one accepted spelling: 64 bytes in
 * canonical base64url (no spare bits set) and s in the lower half of the group order.
 */
export function hasCanonicalEs256Signature(jws: string): boolean {
  const encoded = signatureOf(jws);
  if (encoded.length !== SIGNATURE_LENGTH || !SIGNATURE.test(encoded)) return false;
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.toString('base64url') !== encoded) return false;
  const s = toBigInt(bytes.subarray(32));
  return s > 0n && s <= HALF_ORDER;
}

/** A 64-byte ES256 signature (r ‖ s) with s replaced by n − s when s is in the upper half. */
function lowS(signature: Buffer): Buffer {
  if (signature.length !== 64) throw new Error('not an ES256 signature');
  const s = toBigInt(signature.subarray(32));
  if (s <= HALF_ORDER) return signature;
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex')]);
}

/** The same token with its ES256 signature's s replaced by n − s when s is in the upper half. */
export function withLowS(jws: string): string {
  const at = jws.lastIndexOf('.') + 1;
  const signature = Buffer.from(jws.slice(at), 'base64url');
  const low = lowS(signature);
  return low === signature ? jws : jws.slice(0, at) + low.toString('base64url');
}

/** The protected header of an ES256 JWT signed with key `kid`, encoded for {@link signEs256Jwt} (once per key, not per token). */
export function es256JwtHeader(kid: string): string {
  return Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid })).toString('base64url');
}

/**
 * A compact JWS (RFC 7515) of `claims` under `header` (from {@link es256JwtHeader}), signed with the
 * P-256 `key` in the low-s spelling. node:crypto signs directly: jsonwebtoken validated options,
 * merged them and went through a signing stream per token, about twice the CPU of the signature
 * itself (docs/decisions/007-login-cpu-beyond-verification.md). Verification stays with jsonwebtoken.
 */
export function signEs256Jwt(header: string, claims: object, key: KeyObject): string {
  const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${lowS(signature).toString('base64url')}`;
}
