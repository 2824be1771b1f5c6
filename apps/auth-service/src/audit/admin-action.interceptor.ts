import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { tap, type Observable } from 'rxjs';

import type { AuthenticatedUser } from '@nest-hardening/auth';
import { DomainError } from '@nest-hardening/errors';
import { SecurityEvents } from '@nest-hardening/security-events';

/** The methods of admin actions; every other method (GET, HEAD, OPTIONS) only reads. */
export const ADMIN_CHANGE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Records every change an admin makes or tries (unlock, role, status, ending sessions) with the
 * admin's id, the account and the outcome, after the handler has run: the audit trail shows
 * refused attempts (the last admin, one's own account) as well as the changes.
 */
@Injectable()
export class AdminActionInterceptor implements NestInterceptor {
  constructor(private readonly events: SecurityEvents) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    if (!ADMIN_CHANGE_METHODS.has(req.method)) return next.handle();
    const record = (outcome: string) =>
      this.events.emit({
        type: 'admin_action',
        severity: outcome === 'done' ? 'info' : 'warning',
        rule: context.getHandler().name,
        details: {
          adminId: (req.user as AuthenticatedUser | undefined)?.id,
          accountId: typeof req.params.id === 'string' ? req.params.id : undefined,
          outcome,
        },
      });
    return next.handle().pipe(
      tap({
        next: () => record('done'),
        error: (error: unknown) => record(error instanceof DomainError ? error.code : 'failed'),
      }),
    );
  }
}
