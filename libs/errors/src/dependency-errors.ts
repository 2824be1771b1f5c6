/**
 * Replies of a Redis Cluster in transition: a master failed and its replica is not promoted yet
 * (CLUSTERDOWN), a slot is moving (TRYAGAIN), a node is loading or was just demoted (LOADING,
 * READONLY, MASTERDOWN). ioredis retries these and MOVED itself, and gives up with "Too many Cluster
 * redirections"; all of them pass once the cluster has settled, so they are outages, not bugs.
 */
const REDIS_CLUSTER_IN_TRANSITION = /^(CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN)\b|^Too many Cluster redirections\b/;

/**
 * True for errors that mean a backing service (Redis, Postgres) is down or dropped the connection,
 * as opposed to a bug: ioredis with the offline queue off ("Stream isn't writeable"), command
 * timeouts, refused or reset connections, a Redis Cluster failing over, and Postgres
 * connection/termination codes.
 */
export function isDependencyDownError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && /^(08|57P)/.test(code)) return true; // Postgres: connection exception, admin shutdown/terminated
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN'].includes(code)) return true;
  if (REDIS_CLUSTER_IN_TRANSITION.test(error.message)) return true;
  return /Stream isn't writeable|Command timed out|Connection is closed|enableOfflineQueue|ClusterAllFailedError|Failed to refresh slots cache|Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|MaxRetriesPerRequest/i.test(
    `${error.name} ${error.message}`,
  );
}
