/** Injection token of the shared `Kysely<Database>` instance. */
export const KYSELY = Symbol('KYSELY');
/** Injection token of the underlying `pg.Pool` (health checks, shutdown). */
export const PG_POOL = Symbol('PG_POOL');
