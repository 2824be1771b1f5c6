/**
 * True for errors that mean a backing service (Redis, Postgres) is down or dropped the connection,
 * as opposed to a bug: ioredis with the offline queue off ("Stream isn't writeable"), command
 * timeouts, refused or reset connections, and Postgres connection/termination codes.
 */
export function isDependencyDownError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && /^(08|57P)/.test(code)) return true; // Postgres: connection exception, admin shutdown/terminated
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN'].includes(code)) return true;
  return /Stream isn't writeable|Command timed out|Connection is closed|enableOfflineQueue|ClusterAllFailedError|Failed to refresh slots cache|Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|MaxRetriesPerRequest/i.test(
    `${error.name} ${error.message}`,
  );
}
