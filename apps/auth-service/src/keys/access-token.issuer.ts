import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { es256JwtHeader, signEs256Jwt, type AccessTokenClaims, type Role } from '@nest-hardening/auth';

import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';
import { SigningKeyService } from './signing-key.service';

/** Signs short-lived access tokens: `sub`, `sid`, `role`, `jti`, `iat`, `exp`, `iss`, `aud`, ES256 with `kid`. */
@Injectable()
export class AccessTokenIssuer {
  private readonly header: string;

  constructor(
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly keys: SigningKeyService,
  ) {
    this.header = es256JwtHeader(keys.keyId);
  }

  get ttlSeconds(): number {
    return this.config.ACCESS_TOKEN_TTL_SECONDS;
  }

  /** Signed with the low s of the two valid ECDSA signatures: verifiers refuse the other (see `signEs256Jwt`). */
  issue(userId: string, sessionId: string, role: Role): string {
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      sub: userId,
      sid: sessionId,
      role,
      jti: randomUUID(),
      iat,
      exp: iat + this.config.ACCESS_TOKEN_TTL_SECONDS,
      iss: this.config.JWT_ISSUER,
      aud: this.config.JWT_AUDIENCE,
    };
    return signEs256Jwt(this.header, claims, this.keys.privateKey);
  }
}
