import { failureReason, redactUrl } from '@nest-hardening/errors';

/** Start-up could not reach Postgres. The message names the (password-free) URL and how to start it. */
export class DatabaseUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(
      `Postgres is not reachable at ${redactDatabaseUrl(url)} (${failureReason(cause)}). ` +
        'Start it with `docker compose up -d postgres` or set DATABASE_URL.',
    );
    this.name = 'DatabaseUnavailableError';
  }
}

export function redactDatabaseUrl(url: string): string {
  return redactUrl(url) ?? '(unparseable DATABASE_URL)';
}
