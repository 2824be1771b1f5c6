/** Start-up could not reach Postgres. The message names the (password-free) URL and how to start it. */
export class DatabaseUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(
      `Postgres is not reachable at ${redactDatabaseUrl(url)} (${cause instanceof Error ? cause.message : String(cause)}). ` +
        'Start it with `docker compose up -d postgres` or set DATABASE_URL.',
    );
    this.name = 'DatabaseUnavailableError';
  }
}

export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    // pg also reads `?password=` (and `sslpassword`, ...) from the query.
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
