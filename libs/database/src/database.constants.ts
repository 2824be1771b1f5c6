/** Injection token of the `Kysely` instance; the service types it with its own tables. */
export const KYSELY = Symbol('KYSELY');
/** Injection token of the underlying `pg.Pool` (health checks, shutdown). */
export const PG_POOL = Symbol('PG_POOL');
