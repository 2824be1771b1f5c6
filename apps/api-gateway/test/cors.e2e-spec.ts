import request from 'supertest';

import { callFrom, freshLoopbackIp, startTestSystem, TEST_PASSWORD, uniqueEmail, type TestSystem } from '../../../test/support';
import { loadApiGatewayConfig } from '../src/config/api-gateway.config';

const APP_ORIGIN = 'https://app.example.com';
const OTHER_ORIGIN = 'https://evil.example.net';

const preflight = (system: TestSystem, path: string, origin: string) =>
  request(system.gatewayUrl)
    .options(path)
    .set('origin', origin)
    .set('access-control-request-method', 'POST')
    .set('access-control-request-headers', 'content-type');

describe('CORS at the gateway, for the origins in CORS_ORIGINS', () => {
  let system: TestSystem;

  // The default login budget (5 per 15 minutes per address) and the default trust: every request here is one client.
  beforeAll(async () => {
    system = await startTestSystem({ label: 'cors', gatewayEnv: { CORS_ORIGINS: `${APP_ORIGIN}, https://admin.example.com` } });
  });

  afterAll(() => system?.close());

  it('answers preflights itself, without spending the login budget or reaching a service', async () => {
    // Registered at auth-service directly, from another address: this client's budgets stay whole.
    const user = { email: uniqueEmail('cors'), password: TEST_PASSWORD };
    expect((await callFrom(system.authUrl, 'POST', '/auth/register', { from: freshLoopbackIp(), body: user })).status).toBe(201);
    for (let i = 0; i < 10; i++) {
      const res = await preflight(system, '/api/auth/login', APP_ORIGIN);
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expect(res.headers['access-control-allow-headers']?.toLowerCase()).toContain('content-type');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      // Neither the rate limiter nor a service saw it: they would have added their headers.
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
    for (let i = 0; i < 5; i++) {
      const res = await request(system.gatewayUrl)
        .post('/api/auth/login')
        .set('origin', APP_ORIGIN)
        .send({ email: user.email, password: user.password });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-expose-headers']).toContain('Retry-After');
      expect(res.headers['access-control-expose-headers']).toContain('RateLimit');
    }
    // The budget is exactly the five logins.
    const sixth = await request(system.gatewayUrl)
      .post('/api/auth/login')
      .set('origin', APP_ORIGIN)
      .send({ email: user.email, password: user.password });
    expect(sixth.status).toBe(429);
    expect(sixth.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });

  it('gives an origin that is not listed no Access-Control-Allow-Origin, on preflights and requests', async () => {
    const pre = await preflight(system, '/api/auth/register', OTHER_ORIGIN);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const res = await request(system.gatewayUrl).get('/api/me').set('origin', OTHER_ORIGIN);
    expect(res.status).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  // Refused before any route, by the gateway itself: without the header the browser hides the
  // answer, and the page sees a network error instead of the 400 or 431 it could explain.
  it('lets a listed origin read the refusals the gateway makes before routing', async () => {
    const ambiguous = await request(system.gatewayUrl).get('/api/me/%2e%2e/profile').set('origin', APP_ORIGIN);
    const tooMany = await request(system.gatewayUrl)
      .get('/api/profile')
      .set('origin', APP_ORIGIN)
      .set(Object.fromEntries(Array.from({ length: 995 }, (_, i) => [`x-f${i}`, '1'])));
    expect([ambiguous.status, ambiguous.headers['access-control-allow-origin']]).toEqual([400, APP_ORIGIN]);
    expect([tooMany.status, tooMany.headers['access-control-allow-origin']]).toEqual([431, APP_ORIGIN]);
  });

  it('allows every listed origin, each answered with its own', async () => {
    const res = await preflight(system, '/api/profile', 'https://admin.example.com');
    expect(res.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    expect(res.headers.vary).toContain('Origin');
  });
});

describe('CORS without CORS_ORIGINS', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({ label: 'cors-off' });
  });

  afterAll(() => system?.close());

  it('is off: no origin gets Access-Control-Allow-Origin', async () => {
    const res = await request(system.gatewayUrl).get('/api/me').set('origin', APP_ORIGIN);
    expect(res.status).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await preflight(system, '/api/me', APP_ORIGIN);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS_ORIGINS', () => {
  it.each(['*', 'app.example.com', 'https://app.example.com/', 'https://app.example.com/path', 'ftp://app.example.com'])(
    'refuses %s at start-up: only exact origins are allowed',
    (value) => {
      expect(() => loadApiGatewayConfig({ CORS_ORIGINS: value, KEYS_DIR: '/tmp/cors-config-test' })).toThrow(/CORS_ORIGINS/);
    },
  );
});
