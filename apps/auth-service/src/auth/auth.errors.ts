import { DomainError } from '@lib/errors';

export class PasswordUnchangedError extends DomainError {
  readonly kind = 'invalid';
  constructor() {
    super('password_unchanged', 'The new password must differ from the current one');
  }
}

/** The session used up its current-password checks and has been ended: sign in again. */
export class CredentialChecksExhaustedError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('credential_checks_exhausted', 'Too many wrong passwords: this session has ended, sign in again');
  }
}
