import { DomainError } from '@nest-hardening/errors';

/** Seconds a client waits before retrying a login while the lockout state cannot be read. */
export const LOCKOUT_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** Redis is down and the lockout fails closed: no password is verified without counting it first. */
export class LockoutUnavailableError extends DomainError {
  readonly kind = 'unavailable';
  protected override readonly exposesCode = false;

  constructor(cause: unknown) {
    super('lockout_unavailable', 'Login is temporarily unavailable', LOCKOUT_UNAVAILABLE_RETRY_AFTER_SECONDS, { cause });
  }
}
