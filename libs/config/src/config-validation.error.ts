/**
 * Thrown at start-up when a setting is missing or malformed. The message names every
 * offending environment variable so an operator can fix them all in one go.
 */
export class ConfigValidationError extends Error {
  constructor(
    readonly app: string,
    readonly problems: readonly string[],
  ) {
    super(`${app}: invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}
