import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AUTH_MODULE_OPTIONS, type AuthModuleOptions } from './auth.module-definition';
import type { AuthenticatedUser } from './authenticated-user.interface';
import { InvalidAccessTokenError } from './auth.errors';
import { markAuthenticationRejected } from './authentication-rejection';
import { PublicKeyStore } from './public-key-store';
import { IS_PUBLIC } from './public.decorator';
import { SessionValidator } from './session-validator.port';
import { VerifiedTokenCache } from './verified-token.cache';

const BEARER = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/;

/**
 * Global guard (register it as the first `APP_GUARD`): every route needs a valid, live access token
 * unless marked `@Public()`. It runs before rate limiting so per-user budgets use a verified
 * principal.
 *
 * The signature is verified by passport-jwt ({@link JwtStrategy}) the first time a token is seen;
 * repeats of the exact same token skip the signature check until it expires. The session check
 * runs on every request either way.
 */
@Injectable()
export class AccessTokenGuard extends AuthGuard('jwt') {
  private readonly verified: VerifiedTokenCache;

  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
    private readonly keys: PublicKeyStore,
    @Inject(SessionValidator) private readonly sessions: SessionValidator,
  ) {
    super();
    this.verified = new VerifiedTokenCache(options.verifiedTokenCacheSize ?? 10_000);
  }

  /** `@Public()` per handler and class: decorator metadata is fixed at start-up, so it is read once. */
  private readonly publicRoutes = new WeakMap<Function, WeakMap<Function, boolean>>();

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context.getHandler(), context.getClass())) return true;
    const req = context.switchToHttp().getRequest<Request>();
    try {
      req.user = await this.authenticate(context, req);
      return true;
    } catch (error) {
      if (error instanceof InvalidAccessTokenError && this.options.deferRejection) {
        markAuthenticationRejected(req, error);
        return true;
      }
      throw error;
    }
  }

  private isPublic(handler: Function, cls: Function): boolean {
    let byClass = this.publicRoutes.get(handler);
    let isPublic = byClass?.get(cls);
    if (isPublic === undefined) {
      isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, cls]) === true;
      if (!byClass) this.publicRoutes.set(handler, (byClass = new WeakMap()));
      byClass.set(cls, isPublic);
    }
    return isPublic;
  }

  // Errors raised while checking the session (Redis down) propagate as they are, so they map to 503;
  // every other failure (no token, bad signature, expired, revoked) is one generic 401.
  override handleRequest<TUser>(err: unknown, user: TUser | false): TUser {
    if (err && !(err instanceof InvalidAccessTokenError) && err instanceof Error && !/jwt|token|signature|invalid/i.test(err.message)) {
      throw err;
    }
    if (err || !user) throw new InvalidAccessTokenError();
    return user;
  }

  private async authenticate(context: ExecutionContext, req: Request): Promise<AuthenticatedUser> {
    const header = req.headers.authorization;
    const version = this.keys.version;
    // Only exact strings that passed verification are ever cached, so a hit needs no syntax check.
    const known = header?.startsWith('Bearer ') ? this.verified.get(header.slice(7), version) : undefined;
    if (known) {
      if (!(await this.sessions.isActive(known))) throw new InvalidAccessTokenError();
      return known;
    }
    await super.canActivate(context);
    const user = req.user as AuthenticatedUser;
    const token = BEARER.exec(header ?? '')?.[1];
    if (token) this.verified.set(token, user, version);
    return user;
  }
}
