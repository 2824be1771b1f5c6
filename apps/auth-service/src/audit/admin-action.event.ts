import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import type { AuthenticatedUser } from '@nest-hardening/auth';
import { keptText, type SecurityEvents } from '@nest-hardening/security-events';

import { isAccountId } from '../accounts/account-id.pipe';
import { clientContext } from '../auth/client-context.decorator';

/** The methods of admin actions; every other method (GET, HEAD, OPTIONS) only reads. */
export const ADMIN_CHANGE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Records an admin action (or an attempt at one) of the route `context` is handling: who acted,
 * on which account, from where (network and device: the origin an audit record must name), with
 * which outcome (`done`, or why it was refused). A refusal is a warning.
 */
export function recordAdminAction(events: SecurityEvents, context: ExecutionContext, outcome: string): void {
  const req = context.switchToHttp().getRequest<Request>();
  const { ip, userAgent } = clientContext(req);
  events.emit({
    type: 'admin_action',
    severity: outcome === 'done' ? 'info' : 'warning',
    rule: context.getHandler().name,
    pseudonymous: { ip, userAgent },
    details: {
      adminId: (req.user as AuthenticatedUser | undefined)?.id,
      // A refused attempt is recorded before the id is validated, and the route accepts any segment:
      // anything but an account id is left out (an email typed in its place, say, which the log and
      // Sentry must see only as a pseudonym). An id in capitals is written as the account's id, as
      // the pipe passes it on, so a search of the log for the account finds the action. A copy, so the
      // event does not keep the whole URL alive.
      accountId: isAccountId(req.params.id) ? keptText(req.params.id.toLowerCase()) : undefined,
      outcome,
    },
  });
}
