import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import { DatabaseError, type Pool } from 'pg';

import { DependencyUnavailableError } from '@nest-hardening/errors';

/** SQLSTATE classes of a server that cannot serve now: connection exception, insufficient resources, shutdown. */
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53', '57'];

/**
 * What a failed query means for the caller: an error the server reported about the statement
 * (constraint, syntax, type) is a bug or a conflict and stays as it is; anything else (no
 * connection, pool timeout, connection lost, server shutting down) is Postgres being unavailable,
 * answered 503 by the error filter.
 */
export function postgresFailure(error: unknown): unknown {
  if (error instanceof DatabaseError && !UNAVAILABLE_SQLSTATE_CLASSES.includes((error.code ?? '').slice(0, 2))) return error;
  return new DependencyUnavailableError('postgres', error);
}

/** The pool as Kysely sees it, with every failure translated by {@link postgresFailure} where it happens. */
export function translatingPool(pool: Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect().catch((error: unknown) => {
        throw postgresFailure(error);
      });
      // A query that failed without an answer from the server (query timeout, connection lost)
      // leaves the connection in an unknown state, e.g. still waiting for that answer: it is closed
      // when released instead of going back to the pool.
      let broken = false;
      function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      function query<R>(first: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>) {
        if (typeof first !== 'string') return (client.query as unknown as (cursor: PostgresCursor<R>) => PostgresCursor<R>)(first);
        return client.query(first, parameters as unknown[]).catch((error: unknown) => {
          if (!(error instanceof DatabaseError)) broken = true;
          throw postgresFailure(error);
        }) as unknown as Promise<PostgresQueryResult<R>>;
      }
      return { query, release: (destroy?: boolean) => client.release(destroy === true || broken) };
    },
    end: () => pool.end(),
  };
}
