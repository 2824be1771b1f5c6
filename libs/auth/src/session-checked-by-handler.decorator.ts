import { SetMetadata } from '@nestjs/common';

export const SESSION_CHECKED_BY_HANDLER = Symbol('sessionCheckedByHandler');

/**
 * For a handler whose own Redis script checks the session atomically with what it does (logout):
 * `AccessTokenGuard` verifies the token but does not ask whether its session is live, and the
 * handler must answer 401 when its script finds the session ended. Saves the request a round trip.
 */
export const SessionCheckedByHandler = (): MethodDecorator => SetMetadata(SESSION_CHECKED_BY_HANDLER, true);

const CHECKED_BY_HANDLER = Symbol('sessionCheckedByHandler.request');

/** Set by the guard on a request to such a handler, read by the token strategy. */
export function markSessionCheckedByHandler(req: object): void {
  (req as { [CHECKED_BY_HANDLER]?: true })[CHECKED_BY_HANDLER] = true;
}

export function isSessionCheckedByHandler(req: object): boolean {
  return (req as { [CHECKED_BY_HANDLER]?: true })[CHECKED_BY_HANDLER] === true;
}
