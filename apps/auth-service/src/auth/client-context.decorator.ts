import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import { clientIp } from '@nest-hardening/client-ip';
import { keptText } from '@nest-hardening/security-events';
import type { ClientContext } from '@nest-hardening/sessions';

/**
 * Longest user agent kept with a session and in audit events; longer values are cut (they are shown,
 * never trusted), into a string of their own so the whole header is not kept with them.
 */
const MAX_USER_AGENT_LENGTH = 512;

/**
 * The caller's address (trusted-proxy aware) and user agent, as sessions and audit records keep them.
 * The address too is a string of its own: read from `X-Forwarded-For`, it is a piece of a header
 * whose rest the client wrote.
 */
export function clientContext(req: Request): ClientContext {
  const userAgent = req.headers['user-agent'];
  return { ip: keptText(clientIp(req)), userAgent: typeof userAgent === 'string' ? keptText(userAgent, MAX_USER_AGENT_LENGTH) : '' };
}

/** The caller's address (trusted-proxy aware) and user agent. */
export const Client = createParamDecorator((_data: unknown, ctx: ExecutionContext): ClientContext => {
  return clientContext(ctx.switchToHttp().getRequest<Request>());
});
