import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { failureReason } from '@nest-hardening/errors';

import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';
import { parsePublicKeyPems } from './public-key-pems';

/**
 * The ES256 key that signs access tokens. Only auth-service holds it; other services verify with
 * the public half published at /.well-known/jwks.json. The key comes from the config: JWT_PRIVATE_KEY,
 * or outside production a development key in KEYS_DIR (resolved, and warned about, with the other secrets).
 *
 * JWT_ADDITIONAL_PUBLIC_KEYS are published and accepted beside it, never used to sign: during a
 * rotation the next key is known to every verifier before it signs, and the retired one until its
 * tokens expire (docs/key-rotation.md).
 */
@Injectable()
export class SigningKeyService {
  readonly privateKey: KeyObject;
  readonly keyId: string;
  private readonly jwks: JsonWebKey[];

  constructor(@Inject(AUTH_SERVICE_CONFIG) config: AuthServiceConfig) {
    this.privateKey = readPrivateKey(config.secrets.jwtPrivateKey);
    if (!isP256(this.privateKey)) throw new Error('JWT_PRIVATE_KEY must be an EC P-256 private key (ES256)');
    const additional = parsePublicKeyPems(config.JWT_ADDITIONAL_PUBLIC_KEYS ?? '').map((pem) => createPublicKey(pem));
    if (additional.some((key) => !isP256(key))) throw new Error('JWT_ADDITIONAL_PUBLIC_KEYS must hold EC P-256 public keys (ES256)');
    // A retired key must keep the kid its tokens carry, which only a thumbprint guarantees.
    if (config.JWT_KEY_ID && additional.length > 0) throw new Error('JWT_KEY_ID cannot be combined with JWT_ADDITIONAL_PUBLIC_KEYS');

    const signing = publicJwk(createPublicKey(this.privateKey), config.JWT_KEY_ID);
    this.keyId = signing.kid;
    const byKid = new Map([[signing.kid, signing]]);
    for (const key of additional) {
      const jwk = publicJwk(key);
      if (!byKid.has(jwk.kid)) byKid.set(jwk.kid, jwk);
    }
    this.jwks = [...byKid.values()];
  }

  /** The signing key's public half first, then the additional keys. */
  publicJwks(): JsonWebKey[] {
    return this.jwks;
  }
}

// OpenSSL's own messages name neither the variable nor the mistake: "DECODER routines::unsupported"
// for a path to the PEM file instead of its contents, "interrupted or cancelled" for an encrypted
// key (no passphrase is ever passed). Other PEM text keeps what Node said, which never quotes the key.
function readPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
      throw new Error('JWT_PRIVATE_KEY is encrypted: it must be an unencrypted key (there is no passphrase setting)', {
        cause: error,
      });
    }
    if (pem.includes('-----BEGIN')) {
      throw new Error(`JWT_PRIVATE_KEY could not be read as a private key: ${failureReason(error)}`, { cause: error });
    }
    throw new Error(
      'JWT_PRIVATE_KEY must hold the PEM text of the key (-----BEGIN PRIVATE KEY-----), not a file path: it could not be read as a private key',
    );
  }
  // OpenSSL reads the first key block and ignores the rest: with two keys pasted, the first would
  // sign. The curve's parameters that `openssl ecparam -genkey` writes before the key are no key.
  const keyText = pem.trim().replace(EC_PARAMETERS_FIRST, '');
  if (!ONE_PEM_BLOCK.test(keyText) || keyText.split('-----BEGIN ').length !== 2) {
    throw new Error('JWT_PRIVATE_KEY must hold exactly one PEM private key, and nothing beside it');
  }
  return key;
}

const ONE_PEM_BLOCK = /^-----BEGIN [A-Z0-9 ]+-----\r?\n[\s\S]+\r?\n-----END [A-Z0-9 ]+-----$/;
const EC_PARAMETERS_FIRST = /^-----BEGIN EC PARAMETERS-----\r?\n[A-Za-z0-9+/=\r\n]+-----END EC PARAMETERS-----\s*/;

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

function publicJwk(key: KeyObject, kid?: string): JsonWebKey & { kid: string } {
  const jwk = key.export({ format: 'jwk' });
  return { ...jwk, kid: kid ?? thumbprint(jwk), alg: 'ES256', use: 'sig' };
}

/** RFC 7638 JWK thumbprint of an EC public key: a stable `kid` derived from the key itself. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
