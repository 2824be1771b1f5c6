import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import { InvalidAccessTokenError } from './auth.errors';
import { authenticationRejection } from './authentication-rejection';
import { PublicRoutes } from './public-routes';

/**
 * With `deferRejection`, register this after the rate-limit guard: it answers 401 for a request
 * the token guard refused, once the request has been counted against its IP's budget. A
 * non-public request that somehow has no principal is refused too (fail closed).
 */
@Injectable()
export class AuthenticationRequiredGuard implements CanActivate {
  private readonly publicRoutes: PublicRoutes;

  constructor(reflector: Reflector) {
    this.publicRoutes = new PublicRoutes(reflector);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.publicRoutes.isPublic(context.getHandler(), context.getClass())) return true;
    // The HTTP request is argument 0; `switchToHttp()` would assign three new closures to the context.
    const req = context.getArgByIndex<Request>(0);
    const rejection = authenticationRejection(req);
    if (rejection) throw rejection;
    if (!req.user) throw new InvalidAccessTokenError();
    return true;
  }
}
