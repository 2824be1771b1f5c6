import { generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';

import { Injectable, Module } from '@nestjs/common';

import { es256JwtHeader, signEs256Jwt, type AccessTokenClaims, type Role } from '@nest-hardening/auth';

export const ISSUER = 'example-app';
export const AUDIENCE = 'example-app';
const KEY_ID = 'example-key-1';
const TTL_SECONDS = 15 * 60;

/**
 * Signs this app's access tokens (ES256, `kid` header) and publishes the public key AuthModule
 * verifies them with. The key is made at start-up: a real deployment loads it from a secret, so
 * every instance signs with the same one.
 */
@Injectable()
export class AccessTokens {
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private readonly header = es256JwtHeader(KEY_ID);

  publicJwks(): JsonWebKey[] {
    return [{ ...this.keys.publicKey.export({ format: 'jwk' }), kid: KEY_ID, alg: 'ES256', use: 'sig' }];
  }

  issue(userId: string, sessionId: string, role: Role): string {
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      sub: userId,
      sid: sessionId,
      role,
      jti: randomUUID(),
      iat,
      exp: iat + TTL_SECONDS,
      iss: ISSUER,
      aud: AUDIENCE,
    };
    return signEs256Jwt(this.header, claims, this.keys.privateKey);
  }
}

@Module({ providers: [AccessTokens], exports: [AccessTokens] })
export class AccessTokensModule {}
