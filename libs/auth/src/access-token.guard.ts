import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { InvalidAccessTokenError } from './auth.errors';
import { IS_PUBLIC } from './public.decorator';

/**
 * Global guard (register it as the first `APP_GUARD`): every route needs a valid, live access token
 * unless marked `@Public()`. It runs before rate limiting so per-user budgets use a verified principal.
 */
@Injectable()
export class AccessTokenGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    return super.canActivate(context);
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
}
