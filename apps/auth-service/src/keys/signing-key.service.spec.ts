import { createPublicKey, generateKeyPairSync } from 'node:crypto';

import type { AuthServiceConfig } from '../config/auth-service.config';
import { createDevSigningKey } from './dev-signing-key';
import { SigningKeyService } from './signing-key.service';

const spki = (privatePem: string) => createPublicKey(privatePem).export({ format: 'pem', type: 'spki' }).toString();
const service = (jwtPrivateKey: string, env: Partial<AuthServiceConfig> = {}) =>
  new SigningKeyService({ secrets: { jwtPrivateKey }, ...env } as AuthServiceConfig);

describe('SigningKeyService', () => {
  const current = createDevSigningKey();
  const next = createDevSigningKey();
  const retired = createDevSigningKey();

  it('publishes the signing key first, then each additional public key under its thumbprint, once', () => {
    const keys = service(current, { JWT_ADDITIONAL_PUBLIC_KEYS: `${spki(next)}\n${spki(retired)}\n${spki(current)}${spki(next)}` });
    const jwks = keys.publicJwks() as { kid: string; d?: string }[];
    expect(jwks).toHaveLength(3);
    expect(jwks[0].kid).toBe(keys.keyId);
    // The kid a key gets as an additional key is the kid it had, or will have, as the signing key.
    expect(jwks.slice(1).map((k) => k.kid)).toEqual([service(next).keyId, service(retired).keyId]);
    expect(jwks.every((k) => k.d === undefined)).toBe(true);
  });

  it('refuses a private key, another curve or stray text among the additional keys', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => service(current, { JWT_ADDITIONAL_PUBLIC_KEYS: next })).toThrow(/only PEM public keys/);
    expect(() => service(current, { JWT_ADDITIONAL_PUBLIC_KEYS: `${spki(next)} trailing` })).toThrow(/only PEM public keys/);
    expect(() => service(current, { JWT_ADDITIONAL_PUBLIC_KEYS: p384 })).toThrow(/EC P-256 public keys/);
  });

  it('names JWT_PRIVATE_KEY when it holds a file path instead of the PEM text', () => {
    expect(() => service('/run/secrets/jwt.pem')).toThrow(/JWT_PRIVATE_KEY must hold the PEM text/);
  });

  // OpenSSL reads the first PEM block and ignores what surrounds it: with two keys pasted (the next
  // one after the current, at step 2 of a rotation), the first kept signing without a word.
  it('refuses text beside the one PEM private key, naming JWT_PRIVATE_KEY and never the key', () => {
    for (const pasted of [`${current}${next}`, `${current}garbage`, `notes\n${current}`, `${current}${spki(next)}`]) {
      expect(() => service(pasted)).toThrow(/^JWT_PRIVATE_KEY must hold exactly one PEM private key, and nothing beside it$/);
    }
    expect(service(`\n${current}\n\n`).keyId).toBe(service(current).keyId);
  });

  // `openssl ecparam -genkey -name prime256v1` writes the curve's parameters before the key: one key
  // all the same, which signs as it always did.
  it('reads a key written by openssl ecparam -genkey, its EC PARAMETERS block first, and nothing more beside it', () => {
    const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    const ecparam = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${sec1}`;
    expect(service(ecparam).keyId).toBe(service(sec1).keyId);
    for (const pasted of [
      `${ecparam}${next}`,
      `${ecparam}garbage`,
      `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n`,
    ]) {
      expect(() => service(pasted)).toThrow(/^JWT_PRIVATE_KEY /);
    }
  });

  it('says that an encrypted key is encrypted, not that it is a file path', () => {
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'not the point' })
      .toString();
    expect(() => service(encrypted)).toThrow(/^JWT_PRIVATE_KEY is encrypted/);
  });

  it("keeps Node's reason for PEM text that is damaged, never the key itself", () => {
    const damaged = current.replace(/\n[A-Za-z0-9+/]{8}/, '\n********');
    expect(() => service(damaged)).toThrow(/^JWT_PRIVATE_KEY could not be read as a private key: \S/);
    expect(() => service(damaged)).not.toThrow(/file path|\*{8}/);
  });

  it('refuses JWT_KEY_ID together with additional keys: a retired key would change its kid', () => {
    expect(() => service(current, { JWT_KEY_ID: 'k1', JWT_ADDITIONAL_PUBLIC_KEYS: spki(next) })).toThrow(/JWT_KEY_ID/);
    expect(service(current, { JWT_KEY_ID: 'k1' }).publicJwks()).toEqual([expect.objectContaining({ kid: 'k1' })]);
  });
});
