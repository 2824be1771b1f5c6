import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

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
