import request from 'supertest';

import { callFrom, freshLoopbackIp, startTestSystem, type TestSystem } from '../../../test/support';

/**
 * The general policy is "all routes, per verified user else IP". The token guard runs before the
 * rate limiter (per-user budgets need a verified principal), so it must not answer 401 before the
 * request is counted: otherwise a client could send forged or stale tokens without limit (each
 * costs an ES256 verification, a token of a revoked session a Redis call too). The gateway defers
 * the 401 until after the rate limiter (`deferRejection`), charging the IP's budget.
 */
describe('rate limiting of requests the token guard refuses', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem({ label: 'ratelimit_unauth' });
  });
  afterAll(() => system?.close());

  it('counts requests with an invalid token against the IP general budget (100)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 101; i++) {
      const res = await request(system.gatewayUrl).get('/api/me').set('authorization', 'Bearer not-a-valid-token');
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 100).every((status) => status === 401)).toBe(true);
    expect(statuses[100]).toBe(429);
  });

  it('refuses the largest Authorization header the gateway accepts as cheaply as any other: the guard runs before any budget', async () => {
    // 15,500 characters without white space (about the most the gateway takes: it keeps 512 bytes
    // of Node's 16 kB for the fields it adds when it forwards): passport-jwt's unanchored
    // `/(\S+)\s+(\S+)/` took about 0.3 s of blocked event loop per request on 16,000, before the
    // rate limiter could refuse. Compared with a malformed bearer token of the same length, in the same run.
    const from = freshLoopbackIp();
    const timed = async (authorization: string) => {
      const started = performance.now();
      for (let i = 0; i < 20; i++) {
        expect((await callFrom(system.gatewayUrl, 'GET', '/api/me', { from, headers: { authorization } })).status).toBe(401);
      }
      return performance.now() - started;
    };
    await timed(`Bearer ${'a'.repeat(15_493)}`); // warm-up
    const malformed = await timed(`Bearer ${'a'.repeat(15_493)}`);
    const hostile = await timed('a'.repeat(15_500));
    expect(hostile).toBeLessThan(5 * malformed + 250);
  });
});
