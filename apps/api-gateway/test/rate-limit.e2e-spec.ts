import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

import { Redis } from 'ioredis';

import { rateLimitKeys } from '@nest-hardening/rate-limit';

import {
  startRedisServer,
  startTestSystem,
  TEST_PASSWORD,
  TEST_REDIS_URL,
  uniqueEmail,
  type TestRedisServer,
  type TestSystem,
} from '../../../test/support';

/**
 * Issue 3: distributed rate limiting through the gateway, against real Redis and Postgres.
 *
 * The gateway trusts no proxy (TRUSTED_PROXIES=none, the default), so the client address is the
 * socket's. Each test speaks from its own loopback address (127.0.0.0/8 all reaches the gateway on
 * 127.0.0.1), so tests get separate IP budgets without trusting X-Forwarded-For.
 * The outage tests run the system against a redis-server of their own, which they stop, pause
 * and restart.
 */

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface CallOptions {
  from: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  baseUrl?: string;
}

/** A request sent from the loopback address `from`. Fails after 10 s: nothing the gateway does should take that long. */
function call(baseUrl: string, method: string, path: string, options: CallOptions): Promise<Reply> {
  const url = new URL(path, options.baseUrl ?? baseUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { 'user-agent': 'jest-e2e/1.0', ...options.headers };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers,
        localAddress: options.from,
        timeout: 10_000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} from ${options.from}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

let nextAddress = 0;
const runOctet = process.pid % 250;
/** A loopback address no other test in this run has used. */
function freshIp(): string {
  nextAddress++;
  return `127.${10 + Math.floor(nextAddress / 250)}.${runOctet}.${(nextAddress % 250) + 1}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface GatewayUser {
  email: string;
  accessToken: string;
  refreshToken: string;
}

/** Registers and logs in from an address of its own, so the test's address keeps its whole budget. */
async function newUser(gatewayUrl: string): Promise<GatewayUser> {
  const from = freshIp();
  const email = uniqueEmail('rl');
  const registered = await call(gatewayUrl, 'POST', '/api/auth/register', { from, body: { email, password: TEST_PASSWORD } });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const login = await call(gatewayUrl, 'POST', '/api/auth/login', { from, body: { email, password: TEST_PASSWORD } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { email, accessToken: login.body.accessToken as string, refreshToken: login.body.refreshToken as string };
}

const RATE_LIMIT_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit-policy', 'ratelimit'];

describe('rate limiting through the gateway (real Redis, two gateway instances)', () => {
  let system: TestSystem;
  let redis: Redis;
  const AUTH_WINDOW_MS = 3000;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'ratelimit',
      extraGateways: 1,
      // Real limits (general 100, auth 5, refresh 30); only the login window is short so a test can outlive it.
      gatewayEnv: {
        RATE_LIMIT_AUTH_WINDOW_MS: String(AUTH_WINDOW_MS),
        RATE_LIMIT_GENERAL_WINDOW_MS: '120000',
        RATE_LIMIT_REFRESH_WINDOW_MS: '120000',
      },
    });
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: system.keyPrefix, lazyConnect: true });
    await redis.connect();
  });

  afterAll(async () => {
    redis?.disconnect();
    await system?.close();
  });

  const send = (method: string, path: string, options: CallOptions) => call(system.gatewayUrl, method, path, options);

  it('admits 5 logins per IP with limit headers, refuses the 6th with 429 and an honest Retry-After, and admits again after the window', async () => {
    const user = await newUser(system.gatewayUrl);
    const from = freshIp();
    const credentials = { email: user.email, password: TEST_PASSWORD };

    for (let i = 1; i <= 5; i++) {
      const res = await send('POST', '/api/auth/login', { from, body: credentials });
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('5');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(5 - i));
      expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(1);
      expect(res.headers['ratelimit-policy']).toBe(`"general";q=100;w=120, "auth";q=5;w=${AUTH_WINDOW_MS / 1000}`);
      expect(res.headers.ratelimit).toMatch(new RegExp(`^"auth";r=${5 - i};t=\\d+$`));
    }

    const denied = await send('POST', '/api/auth/login', { from, body: credentials });
    expect(denied.status).toBe(429);
    expect(denied.headers['retry-after']).toMatch(/^\d+$/);
    const retryAfter = Number(denied.headers['retry-after']);
    expect(denied.body).toEqual({ statusCode: 429, message: expect.any(String), retryAfter });
    expect(denied.headers['x-ratelimit-limit']).toBe('5');
    expect(denied.headers['x-ratelimit-remaining']).toBe('0');
    expect(denied.headers['ratelimit-policy']).toContain('"auth";q=5');
    expect(denied.headers.ratelimit).toMatch(/^"auth";r=0;t=\d+$/);
    // Retry-After never points before the real end of the window (read from Redis afterwards, so it can only be shorter).
    const remainingMs = await redis.pttl(rateLimitKeys(`ip:${from}`, 'auth').counter);
    expect(remainingMs).toBeGreaterThan(0);
    expect(retryAfter * 1000).toBeGreaterThanOrEqual(remainingMs);
    expect(retryAfter).toBeLessThanOrEqual(AUTH_WINDOW_MS / 1000);

    // Waiting as told is enough.
    await sleep(retryAfter * 1000);
    const again = await send('POST', '/api/auth/login', { from, body: credentials });
    expect(again.status).toBe(200);
    expect(again.headers['x-ratelimit-remaining']).toBe('4');
  });

  it('refuses the 101st request of a user within the general window (default limit 100)', async () => {
    const user = await newUser(system.gatewayUrl);
    const from = freshIp();
    for (let i = 1; i <= 100; i++) {
      const res = await send('GET', '/api/me', { from, token: user.accessToken });
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-remaining']).toBe(String(100 - i));
    }
    const denied = await send('GET', '/api/me', { from, token: user.accessToken });
    expect(denied.status).toBe(429);
    expect(denied.body).toMatchObject({ statusCode: 429, retryAfter: Number(denied.headers['retry-after']) });
    expect(denied.headers.ratelimit).toMatch(/^"general";r=0;t=\d+$/);
  });

  it('answers /health 500 times in a row without 429 and without rate-limit headers', async () => {
    const from = freshIp();
    for (let i = 0; i < 500; i++) {
      const res = await send('GET', '/health', { from });
      expect(res.status).toBe(200);
      for (const header of RATE_LIMIT_HEADERS) expect(res.headers[header]).toBeUndefined();
    }
    // The address's general budget was not touched by the health checks.
    expect(await redis.exists(rateLimitKeys(`ip:${from}`, 'general').counter)).toBe(0);
  });

  it('gives two users behind one IP separate general budgets', async () => {
    const [alice, bob] = [await newUser(system.gatewayUrl), await newUser(system.gatewayUrl)];
    const from = freshIp();
    for (let i = 0; i < 100; i++) expect((await send('GET', '/api/me', { from, token: alice.accessToken })).status).toBe(200);
    expect((await send('GET', '/api/me', { from, token: alice.accessToken })).status).toBe(429);

    const bobs = await send('GET', '/api/me', { from, token: bob.accessToken });
    expect(bobs.status).toBe(200);
    expect(bobs.headers['x-ratelimit-remaining']).toBe('99');
  });

  it('ignores a spoofed X-Forwarded-For: a new value on every request does not reset the login budget', async () => {
    const user = await newUser(system.gatewayUrl);
    const from = freshIp();
    const credentials = { email: user.email, password: TEST_PASSWORD };
    for (let i = 0; i < 5; i++) {
      const res = await send('POST', '/api/auth/login', { from, body: credentials, headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } });
      expect(res.status).toBe(200);
    }
    for (const spoofed of ['198.51.100.77', '203.0.113.9, 198.51.100.78', '2001:db8::1']) {
      const res = await send('POST', '/api/auth/login', { from, body: credentials, headers: { 'x-forwarded-for': spoofed } });
      expect(res.status).toBe(429);
    }
  });

  it('admits exactly 100 of 200 concurrent requests spread over two gateway instances', async () => {
    expect(system.gatewayUrls).toHaveLength(2);
    const user = await newUser(system.gatewayUrl);
    const from = freshIp();
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => call(system.gatewayUrls[i % 2], 'GET', '/api/me', { from, token: user.accessToken })),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(100);
    expect(statuses.filter((status) => status === 429)).toHaveLength(100);
    // Both instances admitted and refused: the budget is shared, not split per instance.
    for (const gateway of [0, 1]) {
      const mine = statuses.filter((_, i) => i % 2 === gateway);
      expect(mine).toContain(200);
      expect(mine).toContain(429);
    }
    expect(
      await redis.get(
        rateLimitKeys(`user:${JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString()).sub}`, 'general').counter,
      ),
    ).toBe('100');
  });

  it('keeps refresh and login budgets apart: exhausting one blocks neither the other', async () => {
    const user = await newUser(system.gatewayUrl);
    const credentials = { email: user.email, password: TEST_PASSWORD };

    // Login exhausted → refresh still works from the same address.
    const loginSpender = freshIp();
    for (let i = 0; i < 5; i++) expect((await send('POST', '/api/auth/login', { from: loginSpender, body: credentials })).status).toBe(200);
    expect((await send('POST', '/api/auth/login', { from: loginSpender, body: credentials })).status).toBe(429);
    const refreshed = await send('POST', '/api/auth/refresh', { from: loginSpender, body: { refreshToken: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers['ratelimit-policy']).toContain('"refresh";q=30');

    // Refresh exhausted (30 attempts with a bad token each spend the budget) → login still works.
    const refreshSpender = freshIp();
    for (let i = 0; i < 30; i++) {
      const res = await send('POST', '/api/auth/refresh', { from: refreshSpender, body: { refreshToken: 'not-a-token' } });
      expect(res.status).toBe(401);
    }
    const blocked = await send('POST', '/api/auth/refresh', { from: refreshSpender, body: { refreshToken: refreshed.body.refreshToken } });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.ratelimit).toMatch(/^"refresh";r=0;/);
    const login = await send('POST', '/api/auth/login', { from: refreshSpender, body: credentials });
    expect(login.status).toBe(200);
    expect(login.headers.ratelimit).toMatch(/^"auth";r=4;/);
  });
});

/** Sends until `done(reply)` holds; fails after `attempts` tries (no timing in the assertion itself). */
async function until(send: () => Promise<Reply>, done: (reply: Reply) => boolean, attempts = 200): Promise<Reply> {
  let reply = await send();
  for (let i = 1; i < attempts && !done(reply); i++) {
    await sleep(100);
    reply = await send();
  }
  return reply;
}

describe('rate limiting through the gateway while its Redis is down (own redis-server)', () => {
  let server: TestRedisServer;
  let system: TestSystem;
  let user: GatewayUser;
  const send = (method: string, path: string, options: CallOptions) => call(system.gatewayUrl, method, path, options);

  beforeAll(async () => {
    server = await startRedisServer();
    // REDIS_COMMAND_TIMEOUT_MS is 1000 in every test system; the client gives up on a request after 10 s.
    system = await startTestSystem({ label: 'ratelimit_outage', env: { REDIS_URL: server.url } });
    user = await newUser(system.gatewayUrl);
  });

  afterAll(async () => {
    // close() removes the system's keys from this server, so it must be up (again) at that point.
    await server?.restart().catch(() => undefined);
    await system?.close();
    await server?.stop();
  });

  it('fails closed on login, answers 503 (never 500) on authenticated routes, keeps /health up, and resumes limiting after a restart', async () => {
    const credentials = { email: user.email, password: TEST_PASSWORD };
    const before = freshIp();
    expect((await send('GET', '/api/me', { from: before, token: user.accessToken })).status).toBe(200);

    await server.stop();

    const from = freshIp();
    for (let i = 0; i < 7; i++) {
      const login = await send('POST', '/api/auth/login', { from, body: credentials });
      expect(login.status).toBe(503);
      expect(login.headers['retry-after']).toMatch(/^\d+$/);
      expect(login.body).toEqual({ statusCode: 503, message: expect.any(String), retryAfter: Number(login.headers['retry-after']) });
    }
    const register = await send('POST', '/api/auth/register', { from, body: { email: uniqueEmail('outage'), password: TEST_PASSWORD } });
    expect(register.status).toBe(503);
    expect((await send('POST', '/api/auth/refresh', { from, body: { refreshToken: user.refreshToken } })).status).toBe(503);

    // The session check behind every authenticated route needs Redis: 503 with Retry-After, not 500 and not 200.
    for (let i = 0; i < 3; i++) {
      const me = await send('GET', '/api/me', { from, token: user.accessToken });
      expect(me.status).toBe(503);
      expect(me.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.stringify(me.body)).not.toMatch(/stack|at \w+ \(|node_modules/);
    }
    expect((await send('GET', '/health', { from })).status).toBe(200);
    expect((await send('GET', '/health/ready', { from })).status).toBe(503);

    await server.restart();

    // The clients reconnect by themselves; poll until login is decided by Redis again.
    const after = freshIp();
    const first = await until(
      () => send('POST', '/api/auth/login', { from: after, body: credentials }),
      (reply) => reply.status !== 503,
    );
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-remaining']).toBe('4');
    for (let i = 0; i < 4; i++) expect((await send('POST', '/api/auth/login', { from: after, body: credentials })).status).toBe(200);
    expect((await send('POST', '/api/auth/login', { from: after, body: credentials })).status).toBe(429);
    // The failed-closed attempts during the outage were never counted (nor replayed): that address starts afresh.
    const retried = await send('POST', '/api/auth/login', { from, body: credentials });
    expect(retried.status).toBe(200);
    expect(retried.headers['x-ratelimit-remaining']).toBe('4');
    // This redis-server keeps nothing across a restart, so the old session is gone (401); a new one works.
    expect((await send('GET', '/api/me', { from: after, token: user.accessToken })).status).toBe(401);
    expect((await send('GET', '/api/me', { from: after, token: first.body.accessToken as string })).status).toBe(200);
  });

  it('answers within the command timeout when Redis hangs (paused process): 503, no request left waiting', async () => {
    const credentials = { email: user.email, password: TEST_PASSWORD };
    const from = freshIp();
    server.pause();
    try {
      // call() gives up after 10 s (10 x the 1 s command timeout): a hang fails the test instead of being awaited.
      const replies = await Promise.all([
        send('POST', '/api/auth/login', { from, body: credentials }),
        send('GET', '/api/me', { from, token: user.accessToken }),
        send('GET', '/health', { from }),
      ]);
      expect(replies.map((reply) => reply.status)).toEqual([503, 503, 200]);
    } finally {
      server.resume();
    }
    const recovered = await until(
      () => send('POST', '/api/auth/login', { from, body: credentials }),
      (reply) => reply.status !== 503,
    );
    expect(recovered.status).toBe(200);
  });
});

describe('the in-memory fallback through the gateway (auth policy configured to fall back to memory)', () => {
  let server: TestRedisServer;
  let system: TestSystem;

  beforeAll(async () => {
    server = await startRedisServer();
    system = await startTestSystem({
      label: 'ratelimit_memory',
      env: { REDIS_URL: server.url },
      // Every public gateway route spends a fail-closed policy by default; switching one to memory shows the fallback.
      gatewayEnv: { RATE_LIMIT_AUTH_ON_REDIS_ERROR: 'memory' },
    });
  });

  afterAll(async () => {
    await server?.restart().catch(() => undefined);
    await system?.close();
    await server?.stop();
  });

  it('keeps a public route working during the outage, bounded by the same limit per process', async () => {
    await server.stop();
    const from = freshIp();
    for (let i = 0; i < 5; i++) {
      const res = await send(from, { email: uniqueEmail('mem'), password: TEST_PASSWORD });
      expect(res.status).toBe(201);
      expect(res.headers['x-ratelimit-remaining']).toBe(String(4 - i));
    }
    const denied = await send(from, { email: uniqueEmail('mem'), password: TEST_PASSWORD });
    expect(denied.status).toBe(429);
    expect(Number(denied.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  function send(from: string, body: unknown): Promise<Reply> {
    return call(system.gatewayUrl, 'POST', '/api/auth/register', { from, body });
  }
});
