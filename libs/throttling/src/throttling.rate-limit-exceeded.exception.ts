import { HttpException, HttpStatus } from '@nestjs/common';

/** 429 with `{ statusCode, message, retryAfter }`; the guard has already set `Retry-After` and the limit headers. */
export class RateLimitExceededException extends HttpException {
  constructor(
    readonly retryAfterSec: number,
    message = 'Too many requests, please try again later.',
  ) {
    super({ statusCode: HttpStatus.TOO_MANY_REQUESTS, message, retryAfter: retryAfterSec }, HttpStatus.TOO_MANY_REQUESTS);
  }
}
