/**
 * What went wrong, independent of the transport. The HTTP mapping lives in one place,
 * {@link DomainErrorFilter}; libraries only say what kind of failure they raise.
 */
export type DomainErrorKind =
  | 'invalid' // the client sent something malformed or unacceptable
  | 'unauthenticated' // missing, invalid, expired or revoked credentials
  | 'forbidden' // authenticated, but not allowed
  | 'not_found' // absent, or not the caller's (the same answer for both)
  | 'conflict' // clashes with existing state (email taken)
  | 'too_many_requests' // rate limited or locked out; `retryAfterSeconds` is set
  | 'unavailable'; // a dependency (Redis, Postgres) is down; retryable

/**
 * Base class of every domain error. `code` is a stable machine-readable name; `message` is safe to
 * show to the client (it must not reveal whether an account exists, nor internal details).
 */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
