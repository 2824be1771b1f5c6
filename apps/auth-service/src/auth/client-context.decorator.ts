import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import { clientIp } from '@nest-hardening/client-ip';
import type { ClientContext } from '@nest-hardening/sessions';

/** Longest user agent kept with a session; longer values are cut (they are shown, never trusted). */
const MAX_USER_AGENT_LENGTH = 512;

/** The caller's address (trusted-proxy aware) and user agent, as sessions and audit records keep them. */
export function clientContext(req: Request): ClientContext {
  const userAgent = req.headers['user-agent'];
  return { ip: clientIp(req), userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : '' };
}

/** The caller's address (trusted-proxy aware) and user agent. */
export const Client = createParamDecorator((_data: unknown, ctx: ExecutionContext): ClientContext => {
  return clientContext(ctx.switchToHttp().getRequest<Request>());
});
