import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';

import { Client } from 'pg';

import { settleWithin } from '@nest-hardening/testing';

import { ensureDatabase, runMigrations } from './migrations';

describe('migrations against a Postgres that accepts connections but never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let url: string;

  beforeAll(async () => {
    server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `postgres://postgres@127.0.0.1:${(server.address() as { port: number }).port}/never_answers`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fail within seconds instead of holding the start forever', async () => {
    const outcome = (work: Promise<unknown>) =>
      settleWithin(
        work.then(
          () => 'finished',
          () => 'failed',
        ),
        8000,
        'still waiting',
      );
    expect(await outcome(ensureDatabase(url))).toBe('failed');
    expect(await outcome(runMigrations(url, __dirname))).toBe('failed');
  });
});

describe('ensureDatabase run by several processes at once on a new database', () => {
  const POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const names: string[] = [];

  afterAll(async () => {
    const admin = new Client({ connectionString: POSTGRES });
    await admin.connect();
    try {
      for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });

  it('succeeds in every process (both services starting at once, or with `npm run migrate`)', async () => {
    for (let round = 0; round < 3; round++) {
      const name = `test_ensuredb_${randomBytes(4).toString('hex')}`;
      names.push(name);
      const url = new URL(POSTGRES);
      url.pathname = `/${name}`;
      const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => ensureDatabase(url.toString())));
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'created' : (o.reason as Error).message))).toEqual(Array(4).fill('created'));
    }
  });
});

/**
 * A listener in front of the real Postgres that admits connections to `database` only, as a pooler
 * (PgBouncer lists the databases it serves) or a pg_hba.conf written for the app's database does:
 * any other is refused with the server's own FATAL error.
 */
async function startAdmittingOnly(database: string, postgresPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    let startup = Buffer.alloc(0);
    const onStartup = (chunk: Buffer) => {
      startup = Buffer.concat([startup, chunk]);
      if (startup.length < 4 || startup.length < startup.readInt32BE(0)) return;
      client.off('data', onStartup);
      // StartupMessage: length, protocol version, then NUL-terminated name/value pairs.
      const fields = startup.subarray(8, startup.readInt32BE(0)).toString('utf8').split('\0');
      const asked = fields[fields.indexOf('database') + 1];
      if (asked !== database) {
        const body = Buffer.from(`SFATAL\0VFATAL\0C28000\0Mno pg_hba.conf entry for database "${asked}"\0\0`);
        const header = Buffer.alloc(5);
        header.write('E', 0);
        header.writeInt32BE(body.length + 4, 1);
        client.end(Buffer.concat([header, body]));
        return;
      }
      const upstream = connect(postgresPort, '127.0.0.1');
      sockets.add(upstream);
      upstream.write(startup);
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    };
    client.on('data', onStartup);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('migrations where Postgres admits the app to its own database only', () => {
  const POSTGRES = new URL(process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `test_admitonly_${randomBytes(4).toString('hex')}`;
  let admin: Client;
  let listener: { port: number; close(): Promise<void> };

  beforeAll(async () => {
    admin = new Client({ connectionString: POSTGRES.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    listener = await startAdmittingOnly(name, Number(POSTGRES.port || 5432));
  });

  afterAll(async () => {
    await listener?.close();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  // Creating a missing database needs another one to connect to; using one that exists does not.
  it('finds the existing database without connecting to any other, and migrates it', async () => {
    const url = new URL(POSTGRES);
    url.port = String(listener.port);
    url.pathname = `/${name}`;
    await expect(ensureDatabase(url.toString())).resolves.toBeUndefined();
    await expect(runMigrations(url.toString(), __dirname)).resolves.toEqual([]);
  });
});
