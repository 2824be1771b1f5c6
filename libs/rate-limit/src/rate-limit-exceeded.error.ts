import { DomainError } from '@nest-hardening/errors';

/** A request over one of its budgets: 429 with `Retry-After`; the rate-limit headers say which window. */
export class RateLimitExceededError extends DomainError {
  readonly kind = 'too_many_requests';
  protected override readonly exposesCode = false;

  constructor(retryAfterSeconds: number, message = 'Too many requests, please try again later.') {
    super('rate_limited', message, retryAfterSeconds);
  }
}
