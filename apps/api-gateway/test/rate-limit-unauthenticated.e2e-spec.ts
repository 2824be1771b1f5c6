import request from 'supertest';
import { startTestSystem, type TestSystem } from '@lib/testing';

/**
 * KNOWN BUG (reported, not fixed here: apps/api-gateway/src/api-gateway.module.ts is not owned by
 * the rate-limit work). The general policy is "all routes, per verified user else IP", but
 * AccessTokenGuard runs first and answers 401 before RateLimitGuard runs, so requests to protected
 * routes without a valid token never spend any budget: a client can send forged or stale tokens
 * without limit (each costs an ES256 verification, a token of a revoked session a Redis call too).
 * This test fails until the IP budget is charged for requests the token guard refuses.
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
});
