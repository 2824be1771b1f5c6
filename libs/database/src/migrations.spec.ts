import { createServer, type Server, type Socket } from 'node:net';

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
