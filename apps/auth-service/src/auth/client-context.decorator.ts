import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import { clientIp } from '@nest-hardening/client-ip';
import type { ClientContext } from '@nest-hardening/sessions';

/** Longest user agent kept with a session; longer values are cut (they are shown, never trusted). */
const MAX_USER_AGENT_LENGTH = 512;

/** The caller's address (trusted-proxy aware) and user agent. */
export const Client = createParamDecorator((_data: unknown, ctx: ExecutionContext): ClientContext => {
  const req = ctx.switchToHttp().getRequest<Request>();
  const userAgent = req.headers['user-agent'];
  return { ip: clientIp(req), userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : '' };
});
