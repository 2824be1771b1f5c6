import { DomainError } from '@nest-hardening/errors';

export class EmailTakenError extends DomainError {
  readonly kind = 'conflict';
  constructor() {
    super('email_taken', 'An account with this email already exists');
  }
}

export class AccountNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor() {
    super('account_not_found', 'Account not found');
  }
}

/** The right password for a disabled account: answered only after the password was verified. */
export class AccountDisabledError extends DomainError {
  readonly kind = 'forbidden';
  constructor() {
    super('account_disabled', 'This account is disabled');
  }
}

/** An admin may not change their own role or status (nobody can lock themselves out by mistake). */
export class SelfAdministrationError extends DomainError {
  readonly kind = 'conflict';
  constructor() {
    super('self_administration', 'Admins cannot change their own role or status');
  }
}

/** The change would leave no active admin to administer accounts. */
export class LastAdminError extends DomainError {
  readonly kind = 'conflict';
  constructor() {
    super('last_admin', 'The last active admin cannot be demoted or disabled');
  }
}

/** A path id that is not a UUID: no account can have it. */
export class InvalidAccountIdError extends DomainError {
  readonly kind = 'invalid';
  constructor() {
    super('invalid_account_id', 'id must be a UUID');
  }
}

export class InvalidCursorError extends DomainError {
  readonly kind = 'invalid';
  constructor() {
    super('invalid_cursor', 'cursor must be a cursor returned by this route');
  }
}
