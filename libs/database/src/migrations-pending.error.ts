/**
 * An app that does not migrate at start-up found migrations of its folder not applied: its queries
 * would fail against the older schema (500s behind a readiness that answers up), so it does not start.
 */
export class MigrationsPendingError extends Error {
  constructor(readonly migrations: string[]) {
    super(
      `migrations not applied: ${migrations.join(', ')}. Apply them first (\`node dist/apps/<app>/main.js migrate\`, ` +
        'or `npm run migrate` from a checkout), or let the app apply them at start-up (DATABASE_MIGRATE_ON_START=true).',
    );
    this.name = 'MigrationsPendingError';
  }
}
