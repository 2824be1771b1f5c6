import { failureReason } from '@nest-hardening/errors';

/** A migration's SQL failed: a bug in the migration or a schema it did not expect, never an outage to retry. */
export class MigrationFailedError extends Error {
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(`migration ${migration} failed: ${failureReason(cause)}`, { cause });
    this.name = 'MigrationFailedError';
  }
}
