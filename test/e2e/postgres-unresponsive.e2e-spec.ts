import { connect, createServer, type Server, type Socket } from 'node:net';

import request from 'supertest';

import { bearer, createTestDatabase, registerAndLogin, startTestSystem, type TestDatabase, type TestSystem } from '../support';

/**
 * A TCP relay to the real Postgres that can go silent, as a partitioned network or a frozen host
 * does: the connections open at that moment stay open and carry nothing more, while connections
 * opened after `heal()` work.
 */
async function startRelay(targetPort: number): Promise<{ port: number; silence(): void; heal(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const silenced = new WeakSet<Socket>();
  let silent = false;
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    if (silent) silenced.add(client);
    const relay = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (!silenced.has(client)) to.write(chunk);
      });
    relay(client, upstream);
    relay(upstream, client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    silence: () => {
      silent = true;
      for (const socket of sockets) silenced.add(socket);
    },
    heal: () => (silent = false),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The outcome of a request that may never be answered, within `ms`. */
function within(ms: number, req: request.Test): Promise<string> {
  return req.timeout(ms).then(
    (res) => `HTTP ${res.status}`,
    () => `no answer within ${ms} ms`,
  );
}

describe('a service whose Postgres stops answering', () => {
  let database: TestDatabase;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let system: TestSystem;

  beforeAll(async () => {
    database = await createTestDatabase('pgsilent');
    relay = await startRelay(5432);
    const url = new URL(database.url);
    url.port = String(relay.port);
    system = await startTestSystem({ label: 'pgsilent', profileEnv: { DATABASE_URL: url.toString(), DATABASE_QUERY_TIMEOUT_MS: '1000' } });
  });

  afterAll(async () => {
    await relay?.close();
    await system?.close();
    await database?.drop();
  });

  it('answers 503 in bounded time, recovers once Postgres answers again, and still shuts down', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const profile = () => request(system.profileUrl).get('/profile').set(bearer(user.accessToken));
    expect((await profile()).status).toBe(200);

    relay.silence();
    expect(await within(5000, profile())).toBe('HTTP 503');
    // The connection that timed out is closed, not handed to the next request.
    relay.heal();
    expect(await within(5000, profile())).toBe('HTTP 200');

    relay.silence();
    expect(await within(5000, profile())).toBe('HTTP 503');
    expect(await within(5000, request(system.profileUrl).get('/health/ready'))).toBe('HTTP 503');
    const closing = Date.now();
    await system.profile.close();
    expect(Date.now() - closing).toBeLessThan(5000);
  });
});
