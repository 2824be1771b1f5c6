import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import { InsufficientRoleError, RolesGuard, type AuthenticatedUser } from '@nest-hardening/auth';
import { SecurityEvents } from '@nest-hardening/security-events';

/** RolesGuard, with every refusal recorded (ASVS V7.2.2): who tried which admin route on which account. */
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
      if (error instanceof InsufficientRoleError) {
        const req = context.switchToHttp().getRequest<Request>();
        this.events.emit({
          type: 'admin_action',
          severity: 'warning',
          rule: context.getHandler().name,
          details: {
            adminId: (req.user as AuthenticatedUser | undefined)?.id,
            accountId: typeof req.params.id === 'string' ? req.params.id : undefined,
            outcome: error.code,
          },
        });
      }
      throw error;
    }
  }
}
