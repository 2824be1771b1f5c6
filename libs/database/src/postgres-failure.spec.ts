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
});
