import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

import { withLowS, type Role } from '@nest-hardening/auth';

import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';
import { SigningKeyService } from './signing-key.service';

/** Signs short-lived access tokens: `sub`, `sid`, `role`, `jti`, `iat`, `exp`, `iss`, `aud`, ES256 with `kid`. */
@Injectable()
export class AccessTokenIssuer {
  constructor(
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly keys: SigningKeyService,
    private readonly jwt: JwtService,
  ) {}

  get ttlSeconds(): number {
    return this.config.ACCESS_TOKEN_TTL_SECONDS;
  }

  /** Signed with the low s of the two valid ECDSA signatures: verifiers refuse the other (see `withLowS`). */
  issue(userId: string, sessionId: string, role: Role): string {
    const token = this.jwt.sign(
      { sid: sessionId, role },
      {
        // jsonwebtoken signs with the KeyObject as is; the @nestjs/jwt typings only list string | Buffer.
        privateKey: this.keys.privateKey as unknown as string,
        algorithm: 'ES256',
        keyid: this.keys.keyId,
        subject: userId,
        jwtid: randomUUID(),
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        expiresIn: this.config.ACCESS_TOKEN_TTL_SECONDS,
      },
    );
    return withLowS(token);
  }
}
