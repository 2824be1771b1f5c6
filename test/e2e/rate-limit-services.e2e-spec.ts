import request from 'supertest';

import {
  callFrom,
  freshLoopbackIp,
  login,
  registerAndLogin,
  sleep,
  startTestSystem,
  TEST_PASSWORD,
  uniqueEmail,
  type TestSystem,
  type TestUser,
} from '../support';

/**
 * Issue 3: auth-service and profile-service enforce their own per-user budgets, so a request that
 * reaches them without the gateway is still limited; through the gateway, the client sees the
 * tighter of the gateway's budget and the service's. Real Redis and Postgres; small limits so the
 * tests spend them in a few requests.
 */
describe('rate limiting in the services behind the gateway', () => {
  let system: TestSystem;
  const ADMIN = { email: 'ratelimit-admin@example.com', password: 'admin password for ratelimit' };
  const SERVICE_LIMIT = 3;
  const WINDOW_SEC = 120;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'ratelimit-svc',
      // Registration and login of the test users share the test's address: lift that budget only.
      gatewayEnv: { RATE_LIMIT_AUTH_LIMIT: '1000' },
      authEnv: {
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        RATE_LIMIT_ADMIN_LIMIT: String(SERVICE_LIMIT),
        RATE_LIMIT_ADMIN_WINDOW_MS: String(WINDOW_SEC * 1000),
      },
      // profile-service's budget, set alike on the service and the gateway (which charges it for proxied requests).
      env: {
        RATE_LIMIT_PROFILE_LIMIT: String(SERVICE_LIMIT),
        RATE_LIMIT_PROFILE_WINDOW_MS: String(WINDOW_SEC * 1000),
      },
    });
  });

  afterAll(async () => {
    await system?.close();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const newUser = (): Promise<TestUser> => registerAndLogin(system.gatewayUrl);

  it('limits profile-service per user when it is called directly, without the gateway', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    for (let i = 1; i <= SERVICE_LIMIT; i++) {
      const res = await request(system.profileUrl).get('/profile').set(bearer(alice.accessToken));
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe(String(SERVICE_LIMIT));
      expect(res.headers['x-ratelimit-remaining']).toBe(String(SERVICE_LIMIT - i));
      expect(res.headers['ratelimit-policy']).toBe(`"profile";q=${SERVICE_LIMIT};w=${WINDOW_SEC}`);
    }
    const denied = await request(system.profileUrl).get('/profile').set(bearer(alice.accessToken));
    expect(denied.status).toBe(429);
    const retryAfter = Number(denied.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SEC);
    expect(denied.body).toMatchObject({ statusCode: 429, retryAfter });
    expect(denied.headers.ratelimit).toMatch(/^"profile";r=0;t=\d+$/);

    // The budget is the user's: another user is unaffected, and liveness is never limited.
    expect((await request(system.profileUrl).get('/profile').set(bearer(bob.accessToken))).status).toBe(200);
    for (let i = 0; i < 2 * SERVICE_LIMIT; i++) {
      const health = await request(system.profileUrl).get('/health');
      expect(health.status).toBe(200);
      expect(health.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('limits the account administration routes of auth-service per admin, directly and through the gateway alike', async () => {
    const admin = await login(system.gatewayUrl, ADMIN.email, ADMIN.password);
    const target = await newUser();
    const path = `/accounts/${target.id}/lockout`;
    for (let i = 1; i <= SERVICE_LIMIT; i++) {
      const res = await request(system.authUrl).get(path).set(bearer(admin.accessToken));
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-policy']).toBe(`"admin";q=${SERVICE_LIMIT};w=${WINDOW_SEC}`);
      expect(res.headers['x-ratelimit-remaining']).toBe(String(SERVICE_LIMIT - i));
    }
    const direct = await request(system.authUrl).get(path).set(bearer(admin.accessToken));
    expect(direct.status).toBe(429);
    expect(direct.headers['retry-after']).toMatch(/^\d+$/);

    // The service holds the budget, so going through the gateway instead gives no fresh one.
    const viaGateway = await request(system.gatewayUrl).get(`/api${path}`).set(bearer(admin.accessToken));
    expect(viaGateway.status).toBe(429);
    expect(viaGateway.body).toMatchObject({ statusCode: 429 });
    expect(viaGateway.headers.ratelimit).toMatch(/^"admin";r=0;t=\d+$/);

    // Other routes of auth-service are not part of the admin budget.
    expect((await request(system.gatewayUrl).get('/api/me').set(bearer(admin.accessToken))).status).toBe(200);
  });

  it('through the gateway, reports the tighter of the gateway budget and the service budget, and lists both policies', async () => {
    const carol = await newUser();
    const first = await request(system.gatewayUrl).get('/api/profile').set(bearer(carol.accessToken));
    expect(first.status).toBe(200);
    // profile-service's 3 per window is tighter than the gateway's general 100.
    expect(first.headers['x-ratelimit-limit']).toBe(String(SERVICE_LIMIT));
    expect(first.headers['x-ratelimit-remaining']).toBe(String(SERVICE_LIMIT - 1));
    expect(first.headers.ratelimit).toMatch(new RegExp(`^"profile";r=${SERVICE_LIMIT - 1};t=\\d+$`));
    expect(first.headers['ratelimit-policy']).toBe(`"general";q=100;w=900, "profile";q=${SERVICE_LIMIT};w=${WINDOW_SEC}`);

    // A route the service does not limit keeps the gateway's own headers.
    const me = await request(system.gatewayUrl).get('/api/me').set(bearer(carol.accessToken));
    expect(me.status).toBe(200);
    expect(me.headers['ratelimit-policy']).toBe('"general";q=100;w=900');
    expect(me.headers['x-ratelimit-limit']).toBe('100');
    expect(me.headers['x-ratelimit-remaining']).toBe('98');
  });

  it("through the gateway, shows the gateway's budget when it is the tighter one", async () => {
    const dave = await newUser();
    // Spend the gateway's general budget down to 1 on a route profile-service does not see.
    for (let i = 0; i < 98; i++) {
      expect((await request(system.gatewayUrl).get('/api/me').set(bearer(dave.accessToken))).status).toBe(200);
    }
    const profile = await request(system.gatewayUrl).get('/api/profile').set(bearer(dave.accessToken));
    expect(profile.status).toBe(200);
    // The gateway has 1 left of 100 after this request (the 99th), profile-service 2 of 3.
    expect(profile.headers['x-ratelimit-limit']).toBe('100');
    expect(profile.headers['x-ratelimit-remaining']).toBe('1');
    expect(profile.headers.ratelimit).toMatch(/^"general";r=1;t=\d+$/);
    expect(profile.headers['ratelimit-policy']).toBe(`"general";q=100;w=900, "profile";q=${SERVICE_LIMIT};w=${WINDOW_SEC}`);

    // The 100th request spends the last of the gateway's budget; the 101st is the gateway's 429 and never reaches the service.
    expect((await request(system.gatewayUrl).get('/api/profile').set(bearer(dave.accessToken))).headers['x-ratelimit-remaining']).toBe('0');
    const denied = await request(system.gatewayUrl).get('/api/profile').set(bearer(dave.accessToken));
    expect(denied.status).toBe(429);
    expect(denied.headers.ratelimit).toMatch(/^"general";r=0;t=\d+$/);
    const direct = await request(system.profileUrl).get('/profile').set(bearer(dave.accessToken));
    expect(direct.status).toBe(200);
    expect(direct.headers['x-ratelimit-remaining']).toBe('0');
  });
});

/**
 * A service's 429 relayed by the gateway (a budget of the service, or a lockout): the gateway charged
 * its own budget before the service refused, so when that budget is now spent and ends later, the
 * client cannot succeed before it ends either. Short windows and locks so the test can wait as it is told.
 */
describe("a service's 429 relayed while the gateway's own budget is spent", () => {
  let system: TestSystem;
  const ACCOUNT = { email: 'relayed-429@example.com', password: TEST_PASSWORD };

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'ratelimit-relayed-429',
      // The login budget (gateway and auth-service alike) outlasts the registration budget and the lock.
      env: { RATE_LIMIT_AUTH_LIMIT: '2', RATE_LIMIT_AUTH_WINDOW_MS: '6000' },
      authEnv: {
        RATE_LIMIT_REGISTRATION_LIMIT: '1',
        RATE_LIMIT_REGISTRATION_WINDOW_MS: '2000',
        LOCKOUT_PAIR_MAX_FAILURES: '1',
        LOCKOUT_BASE_LOCK_MS: '2000',
        // An account that needs no registration (the registration budget is the other test's).
        BOOTSTRAP_ADMIN_EMAIL: ACCOUNT.email,
        BOOTSTRAP_ADMIN_PASSWORD: ACCOUNT.password,
      },
    });
  });

  afterAll(async () => {
    await system?.close();
  });

  it('answers Retry-After no earlier than the end of the gateway budget, and waiting that long is enough', async () => {
    const from = freshLoopbackIp();
    const register = (email: string) =>
      callFrom(system.gatewayUrl, 'POST', '/api/auth/register', { from, body: { email, password: TEST_PASSWORD } });
    expect((await register(uniqueEmail('relayed'))).status).toBe(201);

    // The address's second (last) login-budget unit, refused by auth-service's spent registration budget.
    const email = uniqueEmail('relayed');
    const refused = await register(email);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(refused.body).toEqual({ statusCode: 429, message: expect.any(String), retryAfter });
    // The budget the client waits for is the one the headers show.
    expect(refused.headers.ratelimit).toBe(`"auth";r=0;t=${retryAfter}`);
    expect(refused.headers['x-ratelimit-reset']).toBe(String(retryAfter));
    expect(refused.headers['ratelimit-policy']).toContain('"registration";q=1');

    await sleep(retryAfter * 1000);
    expect((await register(email)).status).toBe(201);
  });

  it("answers a lockout's 429 with the gateway's reset when the address's login budget outlasts the lock", async () => {
    const from = freshLoopbackIp();
    const attempt = (password: string) => callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: { ...ACCOUNT, password } });
    // Locks the pair (email, address) for 2 s.
    expect((await attempt('not the right password')).status).toBe(401);
    // The address's last login of the window, refused by the lock.
    const refused = await attempt(ACCOUNT.password);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(refused.body).toMatchObject({ statusCode: 429, retryAfter });
    expect(refused.headers.ratelimit).toBe(`"auth";r=0;t=${retryAfter}`);

    await sleep(retryAfter * 1000);
    expect((await attempt(ACCOUNT.password)).status).toBe(200);
  });
});
