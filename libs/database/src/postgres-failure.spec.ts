import { Client, Pool } from 'pg';

import { translatingPool } from './postgres-failure';

const POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('translatingPool', () => {
  let pool: Pool;
  let admin: Client;

  beforeEach(async () => {
    pool = new Pool({ connectionString: POSTGRES, max: 1, connectionTimeoutMillis: 2000 });
    // As DatabaseModule does: a connection killed while lent out or idle must not crash the process.
    pool.on('connect', (client) => client.on('error', () => undefined));
    pool.on('error', () => undefined);
    admin = new Client({ connectionString: POSTGRES });
    await admin.connect();
  });

  afterEach(async () => {
    await admin.end();
    await pool.end();
  });

  // A restart, a failover or pg_terminate_backend answers the query in flight with an error
  // (57P01) and closes the connection: the request waiting for a connection must get a live one.
  it('closes a connection the server terminated instead of handing it to the next request', async () => {
    const translating = translatingPool(pool);
    const first = await translating.connect();
    const { rows } = await first.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', []);
    const running = first.query('SELECT pg_sleep(30)', []).catch((error: unknown) => error);
    const next = translating.connect();
    while ((await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [rows[0].pid])).rowCount === 0);
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    expect(await running).toMatchObject({ code: 'postgres_unavailable' });
    first.release();

    const second = await next;
    try {
      await expect(second.query('SELECT 1 AS one', [])).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      second.release();
    }
  });

  describe('a statement the server gave up on because of other transactions', () => {
    let table: string;

    beforeEach(async () => {
      table = `pf_${process.pid}_${Date.now()}`;
      await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL)`);
      await admin.query(`INSERT INTO ${table} VALUES (1, 0), (2, 0)`);
    });

    afterEach(async () => {
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
    });

    // Two requests that lock the same rows in opposite orders: Postgres ends one of them (40P01).
    // Neither client did anything wrong and a retry succeeds: Postgres cannot serve it now (503,
    // Retry-After), not a bug (500).
    it('answers a deadlock as Postgres unavailable', async () => {
      const translating = translatingPool(new Pool({ connectionString: POSTGRES, max: 2 }));
      const [a, b] = [await translating.connect(), await translating.connect()];
      try {
        await a.query('BEGIN', []);
        await b.query('BEGIN', []);
        await a.query(`UPDATE ${table} SET n = n + 1 WHERE id = 1`, []);
        await b.query(`UPDATE ${table} SET n = n + 1 WHERE id = 2`, []);
        const outcomes = await Promise.all([
          a.query(`UPDATE ${table} SET n = n + 1 WHERE id = 2`, []).then(
            () => 'done',
            (error: unknown) => error,
          ),
          b.query(`UPDATE ${table} SET n = n + 1 WHERE id = 1`, []).then(
            () => 'done',
            (error: unknown) => error,
          ),
        ]);
        expect(outcomes.filter((o) => o !== 'done')).toEqual([expect.objectContaining({ code: 'postgres_unavailable' })]);
      } finally {
        await a.query('ROLLBACK', []).catch(() => undefined);
        await b.query('ROLLBACK', []).catch(() => undefined);
        a.release();
        b.release();
        await translating.end();
      }
    });

    // An operator's lock_timeout on the role (55P03) ends a statement that waited too long for a
    // lock another transaction holds: the same as a statement_timeout (57014), already a 503.
    it('answers a lock wait ended by lock_timeout as Postgres unavailable', async () => {
      const translating = translatingPool(pool);
      await admin.query('BEGIN');
      await admin.query(`SELECT * FROM ${table} WHERE id = 1 FOR UPDATE`);
      const client = await translating.connect();
      try {
        await client.query("SET lock_timeout = '100ms'", []);
        await expect(client.query(`UPDATE ${table} SET n = 1 WHERE id = 1`, [])).rejects.toMatchObject({ code: 'postgres_unavailable' });
      } finally {
        await admin.query('ROLLBACK');
        client.release(true);
      }
    });

    it('keeps a statement the client got wrong as it is (a bug or a conflict, not an outage)', async () => {
      const translating = translatingPool(pool);
      const client = await translating.connect();
      try {
        await expect(client.query(`INSERT INTO ${table} VALUES (1, 0)`, [])).rejects.toMatchObject({ code: '23505' });
      } finally {
        client.release();
      }
    });
  });
});
