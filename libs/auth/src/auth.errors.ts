import { DomainError } from '@nest-hardening/errors';

/** Any problem with the bearer token. One message for all causes: the client learns nothing more. */
export class InvalidAccessTokenError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('invalid_token', 'Unauthorized');
  }
}

export class InsufficientRoleError extends DomainError {
  readonly kind = 'forbidden';
  constructor() {
    super('forbidden', 'Forbidden');
  }
}
