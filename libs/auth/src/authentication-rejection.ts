import type { Request } from 'express';

import type { InvalidAccessTokenError } from './auth.errors';

const REJECTION = Symbol('authenticationRejection');

type WithRejection = Request & { [REJECTION]?: InvalidAccessTokenError };

/** Records that the token guard refused the request, to be answered later (see `deferRejection`). */
export function markAuthenticationRejected(req: Request, error: InvalidAccessTokenError): void {
  (req as WithRejection)[REJECTION] = error;
}

export function authenticationRejection(req: Request): InvalidAccessTokenError | undefined {
  return (req as WithRejection)[REJECTION];
}
