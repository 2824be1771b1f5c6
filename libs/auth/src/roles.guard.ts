import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import { InsufficientRoleError } from './auth.errors';
import type { AuthenticatedUser, Role } from './authenticated-user.interface';
import { REQUIRED_ROLES } from './roles.decorator';

/** Global guard after {@link AccessTokenGuard}: enforces `@Roles(...)`. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, [context.getHandler(), context.getClass()]);
    if (!roles?.length) return true;
    const user = context.switchToHttp().getRequest<Request>().user as AuthenticatedUser | undefined;
    if (!user || !roles.includes(user.role)) throw new InsufficientRoleError();
    return true;
  }
}
