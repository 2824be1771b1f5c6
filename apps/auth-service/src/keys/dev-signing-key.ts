import { generateKeyPairSync } from 'node:crypto';

/** File in KEYS_DIR holding the development signing key. */
export const DEV_SIGNING_KEY_FILE = 'jwt-es256.pem';

/** A new ES256 (EC P-256) private key in PEM (PKCS#8): the development value of JWT_PRIVATE_KEY. */
export function createDevSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}
