import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { tap, type Observable } from 'rxjs';

import { DomainError } from '@nest-hardening/errors';
import { SecurityEvents } from '@nest-hardening/security-events';

import { ADMIN_CHANGE_METHODS, recordAdminAction } from './admin-action.event';

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
    const record = (outcome: string) => recordAdminAction(this.events, context, outcome);
    return next.handle().pipe(
      tap({
        next: () => record('done'),
        error: (error: unknown) => record(error instanceof DomainError ? error.code : 'failed'),
      }),
    );
  }
}
