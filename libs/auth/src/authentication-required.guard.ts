import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { InvalidAccessTokenError } from './auth.errors';
import { authenticationRejection } from './authentication-rejection';
import { IS_PUBLIC } from './public.decorator';

/**
 * With `deferRejection`, register this after the rate-limit guard: it answers 401 for a request
 * the token guard refused, once the request has been counted against its IP's budget. A
 * non-public request that somehow has no principal is refused too (fail closed).
 */
@Injectable()
export class AuthenticationRequiredGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const rejection = authenticationRejection(req);
    if (rejection) throw rejection;
    if (!req.user) throw new InvalidAccessTokenError();
    return true;
  }
}
