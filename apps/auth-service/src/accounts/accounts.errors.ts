import { DomainError } from '@lib/errors';

export class EmailTakenError extends DomainError {
  readonly kind = 'conflict';
  constructor() {
    super('email_taken', 'An account with this email already exists');
  }
}

/** Wrong password and unknown email alike: one message, so nobody learns which emails exist. */
export class InvalidCredentialsError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('invalid_credentials', 'Invalid email or password');
  }
}

export class AccountNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor() {
    super('account_not_found', 'Account not found');
  }
}
