import { DomainError } from '@nest-hardening/errors';

/** The session used up its current-password checks and has been ended: sign in again. */
export class CredentialChecksExhaustedError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('credential_checks_exhausted', 'Too many wrong passwords: this session has ended, sign in again');
  }
}
