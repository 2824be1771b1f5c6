import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import { InvalidAccessTokenError } from './auth.errors';
import type { AuthenticatedUser } from './authenticated-user.interface';

/** The verified principal of the request; only on routes behind {@link AccessTokenGuard}. */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthenticatedUser => {
  const user = ctx.switchToHttp().getRequest<Request>().user as AuthenticatedUser | undefined;
  if (!user) throw new InvalidAccessTokenError();
  return user;
});
