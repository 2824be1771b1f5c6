import { HealthIndicatorService } from '@nestjs/terminus';
import { Client, Pool, type PoolClient } from 'pg';

import { translatingPool } from '@nest-hardening/database';

import { POSTGRES_SERVING_WITHIN_MS, PostgresHealthIndicator } from './postgres.health';

const POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Readiness must not take a busy, healthy instance out of its load balancer: its check would queue
 * behind the app's own queries for a connection. It must still fail for a pool that is stuck.
 */
describe('PostgresHealthIndicator', () => {
  let pool: Pool;
  let indicator: PostgresHealthIndicator;
  let held: PoolClient[];

  beforeEach(() => {
    // Two connections, and a wait for one shorter than a probe's timeout, as an app's pool has.
    pool = new Pool({ connectionString: POSTGRES, max: 2, connectionTimeoutMillis: 500 });
    indicator = new PostgresHealthIndicator(pool, new HealthIndicatorService());
    held = [];
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const client of held) client.release();
    await pool.end();
  });

  /** Lends out every connection of the pool, as requests under load do. */
  async function saturate(): Promise<void> {
    held = await Promise.all([pool.connect(), pool.connect()]);
    expect(pool.idleCount).toBe(0);
  }

  it('is up, with a real query, when a connection is free', async () => {
    await expect(indicator.check()).resolves.toEqual({ postgres: { status: 'up' } });
  });

  it('is up without queueing when every connection is lent out and connections keep coming back whole', async () => {
    await pool.query('SELECT 1'); // a request's query, answered
    await saturate();

    await expect(indicator.check()).resolves.toEqual({ postgres: { status: 'up', saturated: true } });
    expect(pool.waitingCount).toBe(0);
  });

  it('is down when the pool is full and nothing came back whole within the window (Postgres silent, connections stuck)', async () => {
    await pool.query('SELECT 1');
    await saturate();
    const now = performance.now();
    jest.spyOn(performance, 'now').mockReturnValue(now + POSTGRES_SERVING_WITHIN_MS + 1000);

    await expect(indicator.check()).resolves.toEqual({ postgres: { status: 'down', message: 'unreachable' } });
  });

  it('is down when the pool is full of connections that were never given back', async () => {
    await saturate();

    await expect(indicator.check()).resolves.toEqual({ postgres: { status: 'down', message: 'unreachable' } });
  });

  it('does not count a connection given back broken as serving', async () => {
    const client = await pool.connect();
    client.release(new Error('connection lost'));
    await saturate();

    await expect(indicator.check()).resolves.toEqual({ postgres: { status: 'down', message: 'unreachable' } });
  });

  // A restart, a failover or pg_terminate_backend answers the query in flight with an error
  // (57P01) and closes the connection: that connection did not come back whole.
  it('does not count a connection the server terminated (restart, failover) as serving', async () => {
    // As DatabaseModule does: a connection killed while lent out or idle must not crash the process.
    pool.on('connect', (client) => client.on('error', () => undefined));
    pool.on('error', () => undefined);
    const admin = new Client({ connectionString: POSTGRES });
    await admin.connect();
    try {
      const connection = await translatingPool(pool).connect();
      const { rows } = await connection.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', []);
      const running = connection.query('SELECT pg_sleep(30)', []).catch((error: unknown) => error);
      // Terminated while it runs its query, not before it has read it.
      while ((await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [rows[0].pid])).rowCount === 0);
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      await expect(running).resolves.toBeInstanceOf(Error);
      connection.release();
      while (pool.totalCount > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      await admin.end();
    }
    await saturate();

    await expect(indicator.check()).resolves.toEqual({ postgres: { status: 'down', message: 'unreachable' } });
  });
});
