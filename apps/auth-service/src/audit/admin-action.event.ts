import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import type { AuthenticatedUser } from '@nest-hardening/auth';
import { keptText, type SecurityEvents } from '@nest-hardening/security-events';

import { clientContext } from '../auth/client-context.decorator';

/** The methods of admin actions; every other method (GET, HEAD, OPTIONS) only reads. */
export const ADMIN_CHANGE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Most of the path's account id an event keeps. Ids are UUIDs (36 characters); the route accepts
 * any segment, and a refused attempt is recorded before the id is validated, so a client would
 * otherwise choose how large each waiting event and log line is.
 */
const MAX_ACCOUNT_ID_LENGTH = 64;

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
      accountId: typeof req.params.id === 'string' ? keptText(req.params.id, MAX_ACCOUNT_ID_LENGTH) : undefined,
      outcome,
    },
  });
}
