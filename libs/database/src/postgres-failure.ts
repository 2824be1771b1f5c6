import { connect } from 'node:net';

import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import { DatabaseError, type Pool, type PoolClient } from 'pg';

import { DependencyUnavailableError } from '@nest-hardening/errors';

/**
 * SQLSTATE classes of a server that cannot serve now: connection exception (08), transaction
 * rollback (40: a deadlock or serialization failure, ended by the server because of other
 * transactions and fine on a retry), insufficient resources (53), operator intervention (57:
 * statement_timeout, shutdown).
 */
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '40', '53', '57'];
/** lock_not_available: a lock wait ended by an operator's `lock_timeout`, like a statement_timeout (57014). */
const UNAVAILABLE_SQLSTATES = ['55P03'];

/**
 * What a failed query means for the caller: an error the server reported about the statement
 * (constraint, syntax, type) is a bug or a conflict and stays as it is; anything else (no
 * connection, pool timeout, connection lost, server shutting down, a transaction the server gave up
 * on because of others) is Postgres being unavailable, answered 503 by the error filter.
 */
export function postgresFailure(error: unknown): unknown {
  if (error instanceof DatabaseError) {
    const code = error.code ?? '';
    if (!UNAVAILABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2)) && !UNAVAILABLE_SQLSTATES.includes(code)) return error;
  }
  return new DependencyUnavailableError('postgres', error);
}

/**
 * Whether the server ended the session with this error (connection exception; 57P*: shutdown, crash,
 * restart, pg_terminate_backend): it closes the connection next, unlike after a statement's error.
 */
function endsSession(error: DatabaseError): boolean {
  const code = error.code ?? '';
  return code.startsWith('08') || code.startsWith('57P');
}

/** What `pg` rejects a query with when `query_timeout` passed before the server answered. */
const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';
/** How long a cancellation may take to reach the server before the failure is answered anyway. */
const CANCEL_WAIT_MS = 1000;
/** The protocol's CancelRequest code (PostgreSQL frontend/backend protocol, "Canceling Requests in Progress"). */
const CANCEL_REQUEST_CODE = 80877102;

/**
 * Asks the server to cancel the statement this connection is running, with the protocol's
 * CancelRequest on a connection of its own (no pool slot, no authentication; as `pg` sends it), and
 * resolves once the server has taken it (it then closes that connection) or after `waitMs`.
 *
 * `query_timeout` only stops waiting on the client side: a statement still waiting for a lock runs
 * on when its connection is closed, and an autocommitted INSERT or UPDATE is applied when the lock
 * is released, after its request was answered 503 (and retried: an audit batch twice).
 */
function cancelRunningStatement(client: PoolClient, waitMs = CANCEL_WAIT_MS): Promise<void> {
  const { processID, secretKey, host, port } = client as unknown as {
    processID?: number | null;
    secretKey?: number | null;
    host: string;
    port: number;
  };
  if (typeof processID !== 'number' || typeof secretKey !== 'number') return Promise.resolve();
  return new Promise((resolve) => {
    const socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    socket.once('connect', () => {
      const request = Buffer.alloc(16);
      request.writeInt32BE(16, 0);
      request.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      request.writeInt32BE(processID, 8);
      request.writeInt32BE(secretKey, 12);
      socket.end(request);
    });
    socket.once('close', done);
    socket.once('error', done);
  });
}

/** The pool as Kysely sees it, with every failure translated by {@link postgresFailure} where it happens. */
export function translatingPool(pool: Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect().catch((error: unknown) => {
        throw postgresFailure(error);
      });
      // A query that failed without an answer from the server (query timeout, connection lost)
      // leaves the connection in an unknown state, e.g. still waiting for that answer; one the
      // server answered by ending the session (a restart, a failover) is dead. Either is closed
      // when released instead of going back to the pool, where the next request would get it and
      // readiness would count it as serving. A statement that timed out is cancelled on the server
      // first, so that what was answered 503 is not applied afterwards.
      let broken = false;
      function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      function query<R>(first: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>) {
        if (typeof first !== 'string') return (client.query as unknown as (cursor: PostgresCursor<R>) => PostgresCursor<R>)(first);
        return client.query(first, parameters as unknown[]).catch(async (error: unknown) => {
          if (!(error instanceof DatabaseError) || endsSession(error)) broken = true;
          if (error instanceof Error && error.message === QUERY_TIMEOUT_MESSAGE) await cancelRunningStatement(client);
          throw postgresFailure(error);
        }) as unknown as Promise<PostgresQueryResult<R>>;
      }
      return { query, release: (destroy?: boolean) => client.release(destroy === true || broken) };
    },
    end: () => pool.end(),
  };
}
