import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';

const DEV_KEY_FILE = 'jwt-es256.pem';

/**
 * The ES256 key that signs access tokens. Only auth-service holds it; other services verify with
 * the public half published at /.well-known/jwks.json. Production passes the key through
 * JWT_PRIVATE_KEY; without it a key is generated once into the git-ignored KEYS_DIR, with a warning.
 */
@Injectable()
export class SigningKeyService {
  private readonly logger = new Logger(SigningKeyService.name);
  readonly privateKey: KeyObject;
  readonly keyId: string;
  private readonly publicJwk: JsonWebKey;

  constructor(@Inject(AUTH_SERVICE_CONFIG) config: AuthServiceConfig) {
    this.privateKey = createPrivateKey(config.JWT_PRIVATE_KEY ?? this.loadOrCreateDevKey(config.KEYS_DIR));
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

  private loadOrCreateDevKey(dir: string): string {
    const path = join(dir, DEV_KEY_FILE);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { flag: 'wx', mode: 0o600 });
      this.logger.warn(`JWT_PRIVATE_KEY is not set: generated a development signing key in ${path}. Set JWT_PRIVATE_KEY in production.`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      this.logger.warn(`JWT_PRIVATE_KEY is not set: using the development signing key in ${path}.`);
    }
    return readFileSync(path, 'utf8');
  }
}

/** RFC 7638 JWK thumbprint of an EC public key: a stable `kid` derived from the key itself. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
