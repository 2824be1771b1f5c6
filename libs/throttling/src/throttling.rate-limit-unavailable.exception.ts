import { HttpException, HttpStatus } from '@nestjs/common';

/** 503 for fail-closed policies while Redis cannot be reached; the guard has already set `Retry-After`. */
export class RateLimitUnavailableException extends HttpException {
  constructor(readonly retryAfterSec: number) {
    super(
      {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        message: 'Service temporarily unavailable, please try again later.',
        retryAfter: retryAfterSec,
      },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}
