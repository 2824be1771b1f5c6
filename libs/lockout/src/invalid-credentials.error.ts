import { DomainError } from '@nest-hardening/errors';

/**
 * The password (or the email) did not match. Thrown by a handler protected with
 * {@link LockoutProtected}, it settles the attempt as a failed login. Wrong password and unknown
 * email get this one message, so nobody learns which emails exist.
 */
export class InvalidCredentialsError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('invalid_credentials', 'Invalid email or password');
  }
}
