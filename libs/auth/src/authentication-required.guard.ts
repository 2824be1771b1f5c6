import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
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

  /** `@Public()` per handler and class: decorator metadata is fixed at start-up, so it is read once. */
  private readonly publicRoutes = new WeakMap<Function, WeakMap<Function, boolean>>();

  canActivate(context: ExecutionContext): boolean {
    if (this.isPublic(context.getHandler(), context.getClass())) return true;
    // The HTTP request is argument 0; `switchToHttp()` would assign three new closures to the context.
    const req = context.getArgByIndex<Request>(0);
    const rejection = authenticationRejection(req);
    if (rejection) throw rejection;
    if (!req.user) throw new InvalidAccessTokenError();
    return true;
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
}
