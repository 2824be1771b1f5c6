import { randomBytes } from 'node:crypto';

import request from 'supertest';

import { loadApiGatewayConfig } from '../../apps/api-gateway/src/config/api-gateway.config';
import {
  bearer,
  registerAndLogin,
  startRedisServer,
  startTestSystem,
  uniqueEmail,
  UNLIMITED_BUDGETS,
  type TestRedisServer,
  type TestSystem,
  type TestUser,
} from '../support';

/**
 * The value of one series in a Prometheus text exposition: `name` with exactly `labels`, or
 * undefined when the series is absent.
 */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = (match[2] ?? '').match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
    if (found.sort().join(',') === wanted) return Number(match[3]);
  }
  return undefined;
}

async function scrape(baseUrl: string, token?: string): Promise<string> {
  const req = request(baseUrl).get('/metrics');
  if (token) req.set('authorization', `Bearer ${token}`);
  const res = await req;
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain;/);
  expect(res.headers['content-type']).toMatch(/; version=0\.0\.4/);
  return res.text;
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const http = (method: string, route: string, status: number) => ({ method, route, status: String(status) });

describe('GET /metrics (gateway, auth-service, profile-service)', () => {
  let system: TestSystem;
  let user: TestUser;
  const api = () => request(system.gatewayUrl);

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'metrics',
      gatewayEnv: { RATE_LIMIT_AUTH_LIMIT: '4', RATE_LIMIT_GENERAL_LIMIT: '15' },
      // auth-service's own login budget is shared with the gateway's (one counter per address): the
      // direct logins below must meet the lockout, not that budget.
      authEnv: { LOCKOUT_PAIR_MAX_FAILURES: '2', REFRESH_REUSE_GRACE_MS: '0', RATE_LIMIT_AUTH_LIMIT: '100' },
    });
    user = await registerAndLogin(system.gatewayUrl); // 2 of the 4 logins of the auth budget
  });

  afterAll(() => system?.close());

  it('serves Prometheus text on every app from a registry of its own, with process metrics', async () => {
    const [gateway, auth, profile] = await Promise.all([scrape(system.gatewayUrl), scrape(system.authUrl), scrape(system.profileUrl)]);
    expect(sample(gateway, 'app_info', { service: 'api-gateway' })).toBe(1);
    expect(sample(auth, 'app_info', { service: 'auth-service' })).toBe(1);
    expect(sample(profile, 'app_info', { service: 'profile-service' })).toBe(1);
    // Three apps share this process: each reports its own traffic only.
    expect(gateway).not.toContain('service="auth-service"');
    expect(sample(gateway, 'http_requests_total', http('POST', '/api/auth/register', 201))).toBe(1);
    expect(sample(auth, 'http_requests_total', http('POST', '/auth/register', 201))).toBe(1);
    expect(profile).not.toContain('/auth/register');
    for (const text of [gateway, auth, profile]) {
      expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(sample(text, 'redis_connection_up')).toBe(1);
      // Every app checks sessions with a cached answer: its revocation feed is watched, and up.
      expect(sample(text, 'revocation_feed_up')).toBe(1);
      expect(sample(text, 'revocation_feed_losses_total')).toBe(0);
    }
    // Only the libraries an app runs have series: lockout and refresh rotation live in auth-service.
    expect(sample(auth, 'lockout_locks_total', { rule: 'pair' })).toBe(0);
    expect(sample(auth, 'refresh_token_outcomes_total', { outcome: 'rotated' })).toBe(0);
    expect(gateway).not.toContain('lockout_locks_total');
    expect(gateway).not.toContain('refresh_token_outcomes_total');
    // Every Lua call is timed: the gateway's rate-limit decisions so far.
    expect(sample(gateway, 'redis_script_duration_seconds_count', { script: 'rate-limit-consume' })).toBeGreaterThanOrEqual(2);
  });

  it('counts requests by route pattern and status, guard refusals (401, 429) and unmatched paths included', async () => {
    expect((await api().get('/api/me')).status).toBe(401);
    expect((await api().get('/api/profile/raw-id-4711')).status).toBe(401);
    expect((await api().get('/api/no-such-route-4711')).status).toBe(404);
    expect((await api().get('/wp-login-4711.php')).status).toBe(404);
    expect((await api().post('/api/auth/login').send({ email: user.email, password: 'not the password' })).status).toBe(401);
    expect((await api().post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(200);
    expect((await api().post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(429);
    expect((await request(system.authUrl).get('/me')).status).toBe(401);
    expect((await request(system.profileUrl).get('/profile')).status).toBe(401);

    const gateway = await scrape(system.gatewayUrl);
    expect(sample(gateway, 'http_requests_total', http('GET', '/api/me', 401))).toBe(1);
    expect(sample(gateway, 'http_requests_total', http('GET', '/api/profile/*path', 401))).toBe(1);
    expect(sample(gateway, 'http_requests_total', http('GET', 'unmatched', 404))).toBe(2);
    expect(sample(gateway, 'http_requests_total', http('POST', '/api/auth/login', 401))).toBe(1);
    expect(sample(gateway, 'http_requests_total', http('POST', '/api/auth/login', 200))).toBe(2);
    expect(sample(gateway, 'http_requests_total', http('POST', '/api/auth/login', 429))).toBe(1);
    expect(sample(gateway, 'http_request_duration_seconds_count', http('POST', '/api/auth/login', 429))).toBe(1);
    expect(sample(gateway, 'http_request_duration_seconds_bucket', { ...http('POST', '/api/auth/login', 429), le: '+Inf' })).toBe(1);
    // Patterns, never URLs: the raw paths appear nowhere (a sample's value may contain the digits).
    for (const raw of ['raw-id-4711', 'no-such-route-4711', 'wp-login-4711']) expect(gateway).not.toContain(raw);

    expect(sample(gateway, 'rate_limit_decisions_total', { policy: 'auth', result: 'admitted' })).toBe(4);
    expect(sample(gateway, 'rate_limit_decisions_total', { policy: 'auth', result: 'limited' })).toBe(1);
    expect(sample(gateway, 'rate_limit_requests_total', { result: 'limited' })).toBe(1);
    expect(sample(gateway, 'rate_limit_redis_down')).toBe(0);

    const auth = await scrape(system.authUrl);
    expect(sample(auth, 'http_requests_total', http('POST', '/auth/login', 401))).toBe(1);
    expect(sample(auth, 'http_requests_total', http('GET', '/me', 401))).toBe(1);
    const profile = await scrape(system.profileUrl);
    expect(sample(profile, 'http_requests_total', http('GET', '/profile', 401))).toBe(1);
  });

  it('counts requests the JSON body parser rejects (malformed, too large) before any route matches', async () => {
    const malformed = await request(system.profileUrl).patch('/profile').set('content-type', 'application/json').send('{"displayName": ');
    expect(malformed.status).toBe(400);
    const tooLarge = await request(system.profileUrl)
      .patch('/profile')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ displayName: 'x'.repeat(200 * 1024) }));
    expect(tooLarge.status).toBe(413);
    const profile = await scrape(system.profileUrl);
    expect(sample(profile, 'http_requests_total', http('PATCH', 'unmatched', 400))).toBe(1);
    expect(sample(profile, 'http_requests_total', http('PATCH', 'unmatched', 413))).toBe(1);
  });

  it('counts refresh outcomes in auth-service: rotated, reuse, malformed', async () => {
    // The session is bound to the user agent it was created with (registerAndLogin's).
    const refresh = (refreshToken: string) => api().post('/api/auth/refresh').set('user-agent', 'jest-e2e/1.0').send({ refreshToken });
    expect((await refresh(user.refreshToken)).status).toBe(200);
    // REFRESH_REUSE_GRACE_MS=0: presenting the retired token again is reuse, and ends the session.
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await refresh('not-a-refresh-token')).status).toBe(401);

    const auth = await scrape(system.authUrl);
    expect(sample(auth, 'refresh_token_outcomes_total', { outcome: 'rotated' })).toBe(1);
    expect(sample(auth, 'refresh_token_outcomes_total', { outcome: 'reuse' })).toBe(1);
    expect(sample(auth, 'refresh_token_outcomes_total', { outcome: 'malformed' })).toBe(1);
    expect(sample(auth, 'refresh_token_outcomes_total', { outcome: 'grace' })).toBe(0);
    expect(sample(auth, 'refresh_token_outcomes_total', { outcome: 'fingerprint' })).toBe(0);
    expect(sample(auth, 'redis_script_duration_seconds_count', { script: 'rotate-refresh-token' })).toBe(2);
  });

  it('counts lockouts by rule in auth-service, and the 429 of the lockout guard by route', async () => {
    const email = uniqueEmail('metrics-lock');
    const auth = () => request(system.authUrl);
    expect((await auth().post('/auth/register').send({ email, password: 'a long enough password' })).status).toBe(201);
    expect((await auth().post('/auth/login').send({ email, password: 'wrong password 1' })).status).toBe(401);
    expect((await auth().post('/auth/login').send({ email, password: 'wrong password 2' })).status).toBe(401);
    expect((await auth().post('/auth/login').send({ email, password: 'a long enough password' })).status).toBe(429);

    const text = await scrape(system.authUrl);
    expect(sample(text, 'lockout_locks_total', { rule: 'pair' })).toBe(1);
    expect(sample(text, 'lockout_locks_total', { rule: 'email_ceiling' })).toBe(0);
    expect(sample(text, 'lockout_refused_total', { rule: 'pair' })).toBe(1);
    expect(sample(text, 'http_requests_total', http('POST', '/auth/login', 429))).toBe(1);
  });

  it('is never rate limited, even once the budget it would spend is exhausted', async () => {
    // Public requests spend the general budget of the caller's address (15): use it up.
    let status = 0;
    for (let i = 0; i < 30 && status !== 429; i++) {
      status = (await api().post('/api/auth/refresh').send({ refreshToken: 'spend-the-budget' })).status;
    }
    expect(status).toBe(429);
    expect(sample(await scrape(system.gatewayUrl), 'rate_limit_decisions_total', { policy: 'general', result: 'limited' })).toBe(1);
    for (let i = 0; i < 20; i++) await scrape(system.gatewayUrl);
    const text = await scrape(system.gatewayUrl);
    expect(sample(text, 'http_requests_total', http('GET', '/metrics', 200))).toBeGreaterThanOrEqual(21);
    expect(text).not.toMatch(/route="\/metrics",status="429"/);
    // ...while the budget is still spent for everything else.
    expect((await api().post('/api/auth/refresh').send({ refreshToken: 'spend-the-budget' })).status).toBe(429);
  });
});

describe('GET /metrics with METRICS_TOKEN, and Redis state during an outage', () => {
  const token = 'metrics-token-0123456789abcdef';
  let redis: TestRedisServer;
  let redisStopped = false;
  let system: TestSystem;

  beforeAll(async () => {
    redis = await startRedisServer();
    system = await startTestSystem({
      label: 'metrics-token',
      env: { METRICS_TOKEN: token, REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300' },
      gatewayEnv: { RATE_LIMIT_REFRESH_ON_REDIS_ERROR: 'fail-closed' },
    });
  });

  afterAll(async () => {
    if (redisStopped) await redis.restart(); // close() deletes the test's keys on it
    await system?.close();
    await redis?.stop();
  });

  const apps = () => [
    ['api-gateway', system.gatewayUrl],
    ['auth-service', system.authUrl],
    ['profile-service', system.profileUrl],
  ];

  it('answers 401 without the token or with a wrong one, and 200 with it, on every app', async () => {
    for (const [service, url] of apps()) {
      const missing = await request(url).get('/metrics');
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(missing.text).not.toContain('http_requests_total');
      for (const authorization of [
        `Bearer ${token.slice(0, -1)}x`,
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, 16)}`,
        `Basic ${token}`,
        token,
        'Bearer ',
      ]) {
        expect({ service, authorization, status: (await request(url).get('/metrics').set('authorization', authorization)).status }).toEqual(
          {
            service,
            authorization,
            status: 401,
          },
        );
      }
      expect(sample(await scrape(url, token), 'app_info', { service })).toBe(1);
    }
    // The refused scrapes are counted like any other refusal.
    expect(sample(await scrape(system.gatewayUrl, token), 'http_requests_total', http('GET', '/metrics', 401))).toBe(7);
  });

  it('refuses a METRICS_TOKEN shorter than 16 characters at start-up', () => {
    expect(() => loadApiGatewayConfig({ METRICS_TOKEN: 'too-short' })).toThrow(/METRICS_TOKEN/);
  });

  it('reports the Redis outage (script errors, connection down, rate-limit fallback) and the recovery', async () => {
    const refresh = () => request(system.gatewayUrl).post('/api/auth/refresh').send({ refreshToken: 'not-a-refresh-token' });
    expect((await refresh()).status).toBe(401);
    await redis.stop();
    redisStopped = true;
    // The refresh policy is fail-closed: 503 while the limiter cannot reach Redis.
    expect((await refresh()).status).toBe(503);
    const down = await scrape(system.gatewayUrl, token);
    expect(sample(down, 'rate_limit_redis_down')).toBe(1);
    expect(sample(down, 'rate_limit_decisions_total', { policy: 'refresh', result: 'unavailable' })).toBe(1);
    expect(sample(down, 'redis_script_errors_total', { script: 'rate-limit-consume' })).toBeGreaterThanOrEqual(1);
    expect(sample(down, 'rate_limit_redis_errors_total')).toBeGreaterThanOrEqual(1);
    expect(sample(down, 'redis_connection_up')).toBe(0);
    // The subscriber's connection closed with Redis: no cached answers until it has subscribed again.
    expect(sample(down, 'revocation_feed_up')).toBe(0);
    expect(sample(down, 'revocation_feed_losses_total')).toBe(1);
    const connectionErrors = async () => sample(await scrape(system.gatewayUrl, token), 'redis_connection_errors_total') ?? 0;
    await waitFor(async () => (await connectionErrors()) >= 1, 'a failed reconnection attempt to be counted');

    await redis.restart();
    redisStopped = false;
    await waitFor(async () => (await refresh()).status === 401, 'the limiter to reach Redis again');
    const up = await scrape(system.gatewayUrl, token);
    expect(sample(up, 'rate_limit_redis_down')).toBe(0);
    await waitFor(async () => sample(await scrape(system.gatewayUrl, token), 'redis_connection_up') === 1, 'the connection to be ready');
    await waitFor(async () => sample(await scrape(system.gatewayUrl, token), 'revocation_feed_up') === 1, 'the revocation feed to be up');
    expect(sample(await scrape(system.gatewayUrl, token), 'revocation_feed_losses_total')).toBe(1);
  });
});

/**
 * Every label value must come from a bounded set: a scanner's random paths, methods, ids, emails,
 * tokens and client addresses, and a service the gateway cannot reach, must not add series per
 * value (each costs memory in the app and in Prometheus for as long as the process lives).
 */
describe('GET /metrics under hostile input: the series stay a bounded set', () => {
  let system: TestSystem;
  let user: TestUser;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'metrics-cardinality',
      // Budgets and locks that never refuse, so that both rounds below get the same answers; the
      // gateway believes the test's X-Forwarded-For, so requests come from ever new addresses; and
      // it cannot reach profile-service (nothing listens on port 9): a 502 for every /api/profile.
      gatewayEnv: { ...UNLIMITED_BUDGETS.gatewayEnv, TRUSTED_PROXIES: 'loopback', PROFILE_SERVICE_URL: 'http://127.0.0.1:9' },
      authEnv: UNLIMITED_BUDGETS.authEnv,
    });
    user = await registerAndLogin(system.gatewayUrl);
  });

  afterAll(() => system?.close());

  const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'PURGE', 'LINK', 'SEARCH'];
  const send = (url: string, method: string, path: string): request.Test =>
    (request(url) as unknown as Record<string, (path: string) => request.Test>)[method.toLowerCase()](path);

  /**
   * `count` requests of each fixed shape, every one with random values of its own (path segments,
   * ids, emails, passwords, tokens, client addresses); returns those values.
   */
  async function hostileRound(count: number): Promise<string[]> {
    const values: string[] = [];
    for (let i = 0; i < count; i++) {
      const value = `r${randomBytes(6).toString('hex')}`;
      const address = `10.${randomBytes(3).join('.')}`;
      values.push(value, address);
      const method = METHODS[i % METHODS.length];
      const token = i % 2 === 0 ? user.accessToken : value;
      for (const path of [`/${value}`, `/api/${value}`, `/api/me/${value}`, `/api/accounts/${value}/unlock`, `/api/profile/${value}`]) {
        await send(system.gatewayUrl, method, path).set(bearer(token)).set('x-forwarded-for', address);
      }
      for (const [url, path] of [
        [system.authUrl, `/${value}`],
        [system.authUrl, `/accounts/${value}/events`],
        [system.authUrl, `/me/sessions/${value}`],
        [system.profileUrl, `/profile/${value}`],
      ]) {
        await send(url, method, path).set(bearer(token));
      }
      await request(system.gatewayUrl)
        .post('/api/auth/login')
        .set('x-forwarded-for', address)
        .send({ email: `${value}@example.com`, password: value });
      await request(system.gatewayUrl).post('/api/auth/refresh').set('x-forwarded-for', address).send({ refreshToken: value });
      await request(system.authUrl)
        .post('/auth/refresh')
        .send({ refreshToken: `${user.refreshToken.slice(0, -8)}${value.slice(0, 8)}` });
    }
    return values;
  }

  /**
   * Each series of every app (name and labels, without the sample). prom-client's process and
   * Node.js series are left out: their labels (GC kinds, handle types) come from the runtime, not
   * from requests, and appear when the runtime first has them.
   */
  async function seriesOfEveryApp(): Promise<{ series: Set<string>; text: string }> {
    const texts = await Promise.all([system.gatewayUrl, system.authUrl, system.profileUrl].map((url) => scrape(url)));
    const series = new Set<string>();
    texts.forEach((text, app) => {
      for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('#') || /^(process|nodejs)_/.test(line)) continue;
        series.add(`${app} ${line.slice(0, line.lastIndexOf(' '))}`);
      }
    });
    return { series, text: texts.join('\n') };
  }

  it('adds no series for new random paths, methods, ids, emails, tokens and client addresses, and names none of them', async () => {
    await seriesOfEveryApp(); // the scrape's own series exist from here on
    const first = await hostileRound(250);
    const afterFirst = await seriesOfEveryApp();
    // 250 more of each, every value new: the answers are the same, so the series must be too.
    const second = await hostileRound(250);
    const afterSecond = await seriesOfEveryApp();

    expect([...afterSecond.series].filter((series) => !afterFirst.series.has(series))).toEqual([]);
    for (const value of [...first, ...second]) expect(afterSecond.text).not.toContain(value);
    // The rounds did reach the routes, the statuses and the methods a label could have taken from them.
    const gateway = await scrape(system.gatewayUrl);
    expect(sample(gateway, 'http_requests_total', http('PROPFIND', 'unmatched', 404))).toBeUndefined();
    expect(sample(gateway, 'http_requests_total', http('OTHER', 'unmatched', 404))).toBeGreaterThan(0);
    expect(sample(gateway, 'http_requests_total', http('GET', '/api/profile/*path', 502))).toBeGreaterThan(0);
    expect(sample(gateway, 'http_requests_total', http('POST', '/api/auth/login', 401))).toBeGreaterThanOrEqual(500);
  });
});
