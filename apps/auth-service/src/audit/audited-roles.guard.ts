import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import { InsufficientRoleError, RolesGuard } from '@nest-hardening/auth';
import { SecurityEvents } from '@nest-hardening/security-events';

import { ADMIN_CHANGE_METHODS, recordAdminAction } from './admin-action.event';

/**
 * RolesGuard, with every refused admin action recorded (ASVS V7.2.2): who tried which admin route
 * on which account. Refused reads (GET, and HEAD, which Express routes to the same handlers) are not
 * actions and are not recorded: any user could otherwise fill the trail and the alerts with them.
 */
@Injectable()
export class AuditedRolesGuard implements CanActivate {
  constructor(
    private readonly roles: RolesGuard,
    private readonly events: SecurityEvents,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    try {
      return this.roles.canActivate(context);
    } catch (error) {
      const req = context.switchToHttp().getRequest<Request>();
      if (error instanceof InsufficientRoleError && ADMIN_CHANGE_METHODS.has(req.method)) {
        recordAdminAction(this.events, context, error.code);
      }
      throw error;
    }
  }
}
