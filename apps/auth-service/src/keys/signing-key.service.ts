import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';

/**
 * The ES256 key that signs access tokens. Only auth-service holds it; other services verify with
 * the public half published at /.well-known/jwks.json. The key comes from the config: JWT_PRIVATE_KEY,
 * or outside production a development key in KEYS_DIR (resolved, and warned about, with the other secrets).
 */
@Injectable()
export class SigningKeyService {
  readonly privateKey: KeyObject;
  readonly keyId: string;
  private readonly publicJwk: JsonWebKey;

  constructor(@Inject(AUTH_SERVICE_CONFIG) config: AuthServiceConfig) {
    this.privateKey = createPrivateKey(config.secrets.jwtPrivateKey);
    if (this.privateKey.asymmetricKeyType !== 'ec' || this.privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('JWT_PRIVATE_KEY must be an EC P-256 private key (ES256)');
    }
    const jwk = createPublicKey(this.privateKey).export({ format: 'jwk' });
    this.keyId = config.JWT_KEY_ID ?? thumbprint(jwk);
    this.publicJwk = { ...jwk, kid: this.keyId, alg: 'ES256', use: 'sig' } as JsonWebKey;
  }

  publicJwks(): JsonWebKey[] {
    return [this.publicJwk];
  }
}

/** RFC 7638 JWK thumbprint of an EC public key: a stable `kid` derived from the key itself. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
