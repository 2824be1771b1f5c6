/**
 * Thrown at start-up in production when secrets are not set. The message is one line naming every
 * missing variable of the app, so an operator (and a log line) sees them all at once.
 */
export class MissingSecretsError extends Error {
  constructor(
    readonly app: string,
    readonly names: readonly string[],
  ) {
    super(
      `missing required settings in production: ${names.join(', ')} (development values are generated only when NODE_ENV is not production)`,
    );
    this.name = 'MissingSecretsError';
  }
}

/** Thrown at start-up in production when a secret has a value published in this repository (local use only). */
export class LocalOnlySecretsError extends Error {
  constructor(
    readonly app: string,
    readonly names: readonly string[],
  ) {
    super(`local-only values (published in docker-compose.yml) cannot be used in production: ${names.join(', ')}`);
    this.name = 'LocalOnlySecretsError';
  }
}
