import { callFrom, freshLoopbackIp, startTestSystem, TEST_PASSWORD, uniqueEmail, type TestSystem } from '../../../test/support';

/**
 * Finding 8: credential-less requests must not spend an address's login budget (a neighbour
 * behind the same NAT would be refused with the right password). Malformed credential requests
 * (400, 413, 415) move to a per-address malformed budget (10 here), methods the routes do not
 * serve are 404 without any charge; past the malformed budget, junk spends the login budget again.
 */
describe('malformed credential requests and the login budget', () => {
  const MALFORMED_LIMIT = 10;
  let system: TestSystem;
  let email: string;
  const limits = { RATE_LIMIT_MALFORMED_LIMIT: String(MALFORMED_LIMIT) };

  beforeAll(async () => {
    system = await startTestSystem({ label: 'malformed', gatewayEnv: limits, authEnv: limits });
    email = uniqueEmail('nat');
    const res = await callFrom(system.gatewayUrl, 'POST', '/api/auth/register', {
      from: freshLoopbackIp(),
      body: { email, password: TEST_PASSWORD },
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => system?.close());

  /** Junk a neighbour behind the same address can send cheaply; none of it has credentials. */
  const junk = (baseUrl: string, from: string, prefix: string) => [
    () => callFrom(baseUrl, 'POST', `${prefix}/auth/login`, { from, body: {} }),
    () => callFrom(baseUrl, 'POST', `${prefix}/auth/login`, { from, rawBody: '{"email": ' }),
    () => callFrom(baseUrl, 'POST', `${prefix}/auth/login`, { from, rawBody: 'email=a', headers: { 'content-type': 'text/plain' } }),
    () => callFrom(baseUrl, 'POST', `${prefix}/auth/register`, { from, body: { email: 'not an email' } }),
    () => callFrom(baseUrl, 'POST', `${prefix}/auth/login`, { from, body: { email, password: 'x'.repeat(200_000) } }),
  ];

  it('through the gateway: empty, broken and oversized bodies, OPTIONS and GET leave every login of the address', async () => {
    const from = freshLoopbackIp();
    for (const send of junk(system.gatewayUrl, from, '/api')) expect([400, 413, 415]).toContain((await send()).status);
    for (const method of ['OPTIONS', 'GET', 'PUT']) {
      for (const path of ['/api/auth/login', '/api/auth/register', '/api/auth/refresh', '/api/auth/password']) {
        expect((await callFrom(system.gatewayUrl, method, path, { from })).status).toBe(404);
      }
    }
    for (let i = 1; i <= 5; i++) {
      const res = await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: { email, password: TEST_PASSWORD } });
      expect(res.status).toBe(200);
    }
    expect((await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: { email, password: TEST_PASSWORD } })).status).toBe(
      429,
    );
  });

  it('straight at auth-service: the same junk leaves the 5 logins of its own budget', async () => {
    const from = freshLoopbackIp();
    for (const send of junk(system.authUrl, from, '')) expect([400, 413, 415]).toContain((await send()).status);
    for (const method of ['OPTIONS', 'GET']) expect((await callFrom(system.authUrl, method, '/auth/login', { from })).status).toBe(404);
    for (let i = 1; i <= 5; i++) {
      const res = await callFrom(system.authUrl, 'POST', '/auth/login', { from, body: { email, password: TEST_PASSWORD } });
      expect(res.status).toBe(200);
    }
    expect((await callFrom(system.authUrl, 'POST', '/auth/login', { from, body: { email, password: TEST_PASSWORD } })).status).toBe(429);
  });

  it('bounds junk: past the malformed budget, malformed requests spend the login budget again', async () => {
    const from = freshLoopbackIp();
    for (let i = 0; i < MALFORMED_LIMIT + 5; i++) {
      expect((await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: {} })).status).toBe(400);
    }
    const refused = await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: { email, password: TEST_PASSWORD } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });
});
