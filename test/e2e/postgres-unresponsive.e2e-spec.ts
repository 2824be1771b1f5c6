import request from 'supertest';

import { startTcpRelay, type TcpRelay } from '@nest-hardening/testing';

import { bearer, createTestDatabase, registerAndLogin, startTestSystem, type TestDatabase, type TestSystem } from '../support';

/** The outcome of a request that may never be answered, within `ms`. */
function within(ms: number, req: request.Test): Promise<string> {
  return req.timeout(ms).then(
    (res) => `HTTP ${res.status}`,
    () => `no answer within ${ms} ms`,
  );
}

describe('a service whose Postgres stops answering', () => {
  let database: TestDatabase;
  let relay: TcpRelay;
  let system: TestSystem;

  beforeAll(async () => {
    database = await createTestDatabase('pgsilent');
    // A relay to the real Postgres that can go silent, as a partitioned network or a frozen host does.
    relay = await startTcpRelay(5432);
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
