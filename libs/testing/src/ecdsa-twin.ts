/** Order of the P-256 group. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * The ES256 token with its signature (r, s) replaced by (r, n − s): a different string that plain
 * ECDSA verification still accepts for the same header and claims.
 */
export function ecdsaTwin(token: string): string {
  const at = token.lastIndexOf('.') + 1;
  const bytes = Buffer.from(token.slice(at), 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return token.slice(0, at) + Buffer.concat([bytes.subarray(0, 32), flipped]).toString('base64url');
}
