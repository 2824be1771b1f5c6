import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import { REQUIRED_ROLES, type Role } from '@nest-hardening/auth';
import { DomainError } from '@nest-hardening/errors';
import { RateLimitGuard } from '@nest-hardening/rate-limit';
import { SecurityEvents } from '@nest-hardening/security-events';

import { ADMIN_CHANGE_METHODS, recordAdminAction } from './admin-action.event';

/**
 * RateLimitGuard, with every admin action it refuses (429, or 503 when the budget cannot be read)
 * recorded like one the roles guard refuses. Guards run before AdminActionInterceptor, and the
 * budget's own `rate_limit_exceeded` event names neither the admin nor the account and comes
 * once per window: without this, an admin token used past its budget left no trace of what it tried.
 * Reads are not actions and are not recorded (see AuditedRolesGuard).
 */
@Injectable()
export class AuditedRateLimitGuard implements CanActivate {
  constructor(
    private readonly limits: RateLimitGuard,
    private readonly reflector: Reflector,
    private readonly events: SecurityEvents,
  ) {}

  canActivate(context: ExecutionContext): Promise<boolean> {
    return this.limits.canActivate(context).catch((error: unknown) => {
      if (error instanceof DomainError && this.isAdminAction(context)) recordAdminAction(this.events, context, error.code);
      throw error;
    });
  }

  /** A change on a route that requires a role: the routes whose attempts the roles guard records. */
  private isAdminAction(context: ExecutionContext): boolean {
    if (context.getType() !== 'http' || !ADMIN_CHANGE_METHODS.has(context.switchToHttp().getRequest<Request>().method)) return false;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, [context.getHandler(), context.getClass()]);
    return (roles?.length ?? 0) > 0;
  }
}
