import { DomainError } from '@nest-hardening/errors';

/** Unknown, malformed, expired or revoked refresh token. One message for all: nothing leaks. */
export class InvalidRefreshTokenError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('invalid_refresh_token', 'Invalid refresh token');
  }
}

/** No such session, or not the caller's: the same answer for both. */
export class SessionNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor() {
    super('session_not_found', 'Session not found');
  }
}

/**
 * The user's password, role or status changed after the credentials of this login were read, so no
 * session is created from them (the caller answers as for wrong credentials).
 */
export class StaleAuthorizationError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('stale_authorization', 'Invalid email or password');
  }
}
