import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { decode } from 'jsonwebtoken';
import passport from 'passport';
import { Strategy } from 'passport-jwt';

import { InvalidAccessTokenError } from './auth.errors';
import { AUTH_MODULE_OPTIONS, type AuthModuleOptions } from './auth.module-definition';
import type { AccessTokenClaims, AuthenticatedUser } from './authenticated-user.interface';
import { hasCanonicalEs256Signature } from './es256-signature';
import { PublicKeyStore } from './public-key-store';
import { isSessionCheckedByHandler } from './session-checked-by-handler.decorator';
import { SessionValidator } from './session-validator.port';

/**
 * The token's header, or undefined when the token is not a decodable JWT. `decode()` throws on a
 * payload that is not JSON when the header says `typ: JWT`; that is the client's fault, not ours.
 */
function decodeHeader(rawJwt: string): { alg?: string; kid?: unknown; crit?: unknown } | undefined {
  try {
    return decode(rawJwt, { complete: true })?.header;
  } catch {
    return undefined;
  }
}

/**
 * An `Authorization` header as passport-jwt's `auth_header.parse` reads it (a scheme, white space,
 * a value), anchored: passport-jwt's own `/(\S+)\s+(\S+)/` is unanchored and backtracks
 * quadratically on a header without white space, so one 16 kB `Authorization` (the most Node
 * accepts) blocked the event loop for about 0.3 s before any rate limit applied. The leftmost match
 * of that pattern always starts at the first non-space character, so this one captures the same.
 */
const AUTHORIZATION = /^\s*(\S+)\s+(\S+)/;

/**
 * The bearer token of a request, exactly as `ExtractJwt.fromAuthHeaderAsBearerToken()` extracts it
 * (scheme `bearer` in any case, the value up to the next white space), in time linear in the header.
 */
function bearerTokenFrom(req: { headers: { authorization?: string } }): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = AUTHORIZATION.exec(header);
  return match !== null && match[1].toLowerCase() === 'bearer' ? match[2] : null;
}

/** The only signature algorithm accepted: `none`, HS* (key confusion) and RS* are refused. */
export const ACCESS_TOKEN_ALGORITHM = 'ES256';

let strategies = 0;

/**
 * Verifies the bearer token (signature by `kid`, algorithm, issuer, audience, expiry) and then asks
 * the {@link SessionValidator} whether its session and the token itself are still live. A valid
 * signature alone is not enough: a logged-out session's tokens die at once.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') implements OnApplicationShutdown {
  /**
   * This instance's own name in passport's registry, which is one per process: under the shared
   * name `jwt`, the strategy of the app created last (its issuer, audience and keys) would verify
   * the tokens of every app in the process. {@link AccessTokenGuard} authenticates by this name.
   */
  override readonly name: string;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    keys: PublicKeyStore,
    @Inject(SessionValidator) private readonly sessions: SessionValidator,
  ) {
    super({
      jwtFromRequest: bearerTokenFrom,
      passReqToCallback: true,
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: options.issuer,
      audience: options.audience,
      jsonWebTokenOptions: { clockTolerance: options.clockToleranceSeconds ?? 5 },
      secretOrKeyProvider: (_req: unknown, rawJwt: string, done: (error: unknown, key?: string) => void) => {
        const header = decodeHeader(rawJwt);
        // A signature in any spelling but the issuer's (high s, spare base64url bits) is refused
        // before it is verified, so no second string of a token is ever accepted or cached. No JWS
        // extension is understood here, so a header naming any as critical is refused (RFC 7515 §4.1.11).
        if (
          !header ||
          header.alg !== ACCESS_TOKEN_ALGORITHM ||
          typeof header.kid !== 'string' ||
          header.crit !== undefined ||
          !hasCanonicalEs256Signature(rawJwt)
        ) {
          done(new InvalidAccessTokenError());
          return;
        }
        keys.get(header.kid).then(
          // jsonwebtoken verifies with a KeyObject directly (no PEM re-parse per request); the
          // passport-jwt typings only list string | Buffer.
          (key) => (key ? done(null, key as unknown as string) : done(new InvalidAccessTokenError())),
          (error: unknown) => done(error),
        );
      },
    });
    this.name = `jwt#${++strategies}`;
    passport.use(this.name, this);
  }

  // Not onModuleDestroy: Nest runs that before the HTTP server closes, and the requests it still
  // serves while draining would meet an unknown strategy (500) instead of a verification.
  onApplicationShutdown(): void {
    passport.unuse(this.name);
  }

  async validate(req: Request, claims: Partial<AccessTokenClaims>): Promise<AuthenticatedUser> {
    const { sub, sid, role, jti, exp } = claims;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      (role !== 'user' && role !== 'admin')
    ) {
      throw new InvalidAccessTokenError();
    }
    const user: AuthenticatedUser = { id: sub, sessionId: sid, role, jti, exp };
    if (!isSessionCheckedByHandler(req) && !(await this.sessions.isActive(user))) throw new InvalidAccessTokenError();
    return user;
  }
}
