import { HttpException, HttpStatus } from '@nestjs/common';

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
  | 'unavailable'; // a dependency (Redis, Postgres) is down; retryable, `retryAfterSeconds` is set

export const STATUS_OF_KIND: Readonly<Record<DomainErrorKind, number>> = {
  invalid: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  too_many_requests: HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

/** The JSON body of every refusal: `error` names the failure when it has a stable code. */
export interface DomainErrorBody {
  statusCode: number;
  /** One sentence; a list for validation errors, one entry per problem. */
  message: string | string[];
  error?: string;
  retryAfter?: number;
}

/**
 * Base class of every refusal. `code` is a stable machine-readable name, sent as `error` unless a
 * subclass keeps it to logs and metrics (`exposesCode`); `message` is safe to show to the client. It is
 * an `HttpException` whose status and body follow from `kind`, so an app without
 * {@link DomainErrorFilter} still answers the right status and body; the filter adds `Retry-After`.
 */
export abstract class DomainError extends HttpException {
  abstract readonly kind: DomainErrorKind;
  /** Whether the body names the error (`error: code`); refusals with one fixed message keep it out. */
  protected readonly exposesCode: boolean = true;

  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    // Status and body are derived from `kind`, which a subclass sets after this constructor runs.
    super(message, HttpStatus.INTERNAL_SERVER_ERROR, options);
    this.name = new.target.name;
  }

  override getStatus(): number {
    return STATUS_OF_KIND[this.kind];
  }

  override getResponse(): DomainErrorBody {
    const body: DomainErrorBody = { statusCode: this.getStatus(), message: this.message };
    if (this.exposesCode) body.error = this.code;
    if (this.retryAfterSeconds !== undefined) body.retryAfter = this.retryAfterSeconds;
    return body;
  }
}
