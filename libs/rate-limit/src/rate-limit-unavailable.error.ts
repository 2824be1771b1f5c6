import { DomainError } from '@nest-hardening/errors';

/** A fail-closed policy while Redis cannot be reached: 503 with `Retry-After`. */
export class RateLimitUnavailableError extends DomainError {
  readonly kind = 'unavailable';
  protected override readonly exposesCode = false;

  constructor(retryAfterSeconds: number) {
    super('rate_limit_unavailable', 'Service temporarily unavailable, please try again later.', retryAfterSeconds);
  }
}
