import { HttpException, HttpStatus } from '@nestjs/common';

/** The one message every locked login gets, whichever rule applies and whether the email exists. */
export const ACCOUNT_LOCKED_MESSAGE = 'Too many failed login attempts. Try again later.';

/**
 * A login refused by lockout. It is an `HttpException`, so Nest's default filter (and any filter
 * that handles `HttpException`) answers `429 {statusCode, message, retryAfter}`. The `Retry-After`
 * header is set by {@link LockoutGuard} on the response before it throws; code that throws this
 * exception elsewhere must set the header itself.
 */
export class AccountLockedException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      { statusCode: HttpStatus.TOO_MANY_REQUESTS, message: ACCOUNT_LOCKED_MESSAGE, retryAfter: retryAfterSeconds },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
