import { DomainError } from '@nest-hardening/errors';

/** The one message every locked login gets, whichever rule applies and whether the email exists. */
export const ACCOUNT_LOCKED_MESSAGE = 'Too many failed login attempts. Try again later.';

/** A login refused by lockout: 429 with `Retry-After`; the body does not name the rule that applied. */
export class AccountLockedError extends DomainError {
  readonly kind = 'too_many_requests';
  protected override readonly exposesCode = false;

  constructor(retryAfterSeconds: number) {
    super('account_locked', ACCOUNT_LOCKED_MESSAGE, retryAfterSeconds);
  }
}
