import { Logger } from '@nestjs/common';

import { startRedisServer, type TestRedisServer } from '@nest-hardening/testing';

import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';

const WRONG = 'wrong password';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Redis that is slow rather than down: it stalls longer than the client's command timeout, the
 * guard answers 503 (fail-closed), and Redis then runs the reservations it was sent. Those must
 * change nothing: an attempt answered 503 never reached a password check, so it must not sit as a
 * pending failure filling the pair's window after Redis is back.
 */
describe('LockoutGuard while Redis stalls past the command timeout (own redis-server)', () => {
  let server: TestRedisServer;
  let t: LoginTestApp;

  beforeAll(async () => {
    server = await startRedisServer();
    t = await startLoginTestApp({ redisUrl: server.url, commandTimeoutMs: 300, pairWindowMs: 60_000, baseLockMs: 60_000 }, [
      'stalled@example.com',
    ]);
  });
  afterAll(async () => {
    await t?.close();
    await server?.stop();
  });

  it('does not count attempts it answered 503 while Redis was too slow to reply', async () => {
    const email = 'stalled@example.com';
    const ip = '10.7.0.1';
    // A first attempt reads Redis's clock (a process's very first call carries no deadline).
    expect((await t.login(email, WRONG, ip)).status).toBe(401);
    await server.stalled(async () => {
      for (let i = 0; i < 5; i++) expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(503);
    });
    // Redis runs the five queued reservations now, after their deadlines.
    await sleep(200);
    // Only the first attempt counted: four more wrong passwords are checked (401); the fifth failure locks.
    for (let i = 0; i < 4; i++) expect((await t.login(email, WRONG, ip)).status).toBe(401);
    expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(429);
  });

  // The client's 503 says only "Service temporarily unavailable"; the operator's log must say what
  // Redis did (here: it did not answer in time), or a stall cannot be told from a refused connection.
  it("logs what Redis did, not the client's 503 text, when it answers a login 503", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      await server.stalled(async () => {
        expect((await t.login('stalled@example.com', WRONG, '10.7.0.2')).status).toBe(503);
      });
      const lines = warn.mock.calls.map(([message]) => String(message)).filter((line) => line.startsWith('Lockout check unavailable'));
      expect(lines).toEqual([expect.stringMatching(/timed out/i)]);
    } finally {
      warn.mockRestore();
    }
  });
});
