import { DomainError } from './domain-error';

/** Seconds a client should wait before retrying after a dependency outage. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/**
 * Redis or Postgres could not answer (connection refused or lost, timeout, failover in progress).
 * Raised by the layer that talks to the dependency, which alone can tell an outage from a bug;
 * answered 503 with `Retry-After`, never 500.
 */
export class DependencyUnavailableError extends DomainError {
  readonly kind = 'unavailable';
  protected override readonly exposesCode = false;

  constructor(
    readonly dependency: 'redis' | 'postgres',
    cause: unknown,
    message = 'Service temporarily unavailable',
    retryAfterSeconds = DEPENDENCY_RETRY_AFTER_SECONDS,
  ) {
    super(`${dependency}_unavailable`, message, retryAfterSeconds, { cause });
  }
}

/**
 * What to log about a failure: for an outage, what the dependency said (a deadlock, a timeout, a
 * refused connection), which the client's 503 leaves out; otherwise the error's own message.
 */
export function failureReason(error: unknown): string {
  return describe(error instanceof DependencyUnavailableError ? error.cause : error);
}

/**
 * An error's message, or what stands for it when there is none: Node's connect raises an
 * `AggregateError` with an empty message when every address of a host refused (IPv6 and IPv4
 * `localhost`), and the reasons are only in its `errors`; a bare errno error may carry only a code.
 */
function describe(error: unknown, seen = new Set<AggregateError>()): string {
  if (!(error instanceof Error)) return String(error);
  // `seen`: an AggregateError met again (one that holds itself) is named, not opened again.
  if (error instanceof AggregateError && error.errors.length > 0 && !seen.has(error)) {
    seen.add(error);
    const reasons = [...new Set(error.errors.map((inner) => describe(inner, seen)))].join('; ');
    return error.message ? `${error.message}: ${reasons}` : reasons;
  }
  return error.message || (error as NodeJS.ErrnoException).code || error.name;
}
