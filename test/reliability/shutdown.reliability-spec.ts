import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

import { Client } from 'pg';

import {
  settleWithin,
  startProcessSystem,
  startRedisServer,
  TEST_PASSWORD,
  TEST_POSTGRES_URL,
  type AppProcess,
  type ProcessSystem,
  type TestRedisServer,
} from '../support';
import { call, freshIp, logIn, register, sleep, statusCounts, waitFor, type Account, type Reply, type Session } from './reliability-client';

/**
 * Stopping and restarting the apps as an orchestrator does (a rolling deployment, a node drained):
 * SIGTERM to a real `node dist/apps/<app>/main.js` process, with requests under way, while the
 * rest of the system keeps serving. Every process runs as PID 1 of a container would (see
 * pid-one.preload.js): after its shutdown it must end by itself, not by the signal.
 */

/** One raw HTTP/1.1 connection: what it received, and when the server closed it. */
interface RawConnection {
  socket: Socket;
  received(): string;
  closed: Promise<void>;
}

async function rawConnection(url: string, from = freshIp()): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), localAddress: from });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => received, closed };
}

/** The status lines of the answers a raw connection received, e.g. `['HTTP/1.1 200 OK']`. */
const statusLines = (text: string) => text.split(/(?=HTTP\/1\.1 \d{3} )/).map((answer) => answer.split('\r\n')[0]);

/** The secrets every process gets, to look for in their logs. */
const SECRETS = Object.fromEntries(
  ['REFRESH_TOKEN_SECRET', 'FINGERPRINT_SECRET', 'PSEUDONYM_SECRET', 'LOCKOUT_SECRET', 'GATEWAY_SECRET', 'METRICS_TOKEN'].map((name) => [
    name,
    randomBytes(32).toString('base64url'),
  ]),
);

const AS_PID_ONE = `--require ${join(__dirname, '../support/pid-one.preload.js')}`;

const LENIENT = {
  RATE_LIMIT_GENERAL_LIMIT: '1000000',
  RATE_LIMIT_AUTH_LIMIT: '1000000',
  RATE_LIMIT_REFRESH_LIMIT: '1000000',
  RATE_LIMIT_PROFILE_LIMIT: '1000000',
};

describe('stopping and restarting the apps (1 gateway, 1 auth-service, 1 profile-service as processes)', () => {
  let system: ProcessSystem;

  beforeAll(async () => {
    system = await startProcessSystem({
      label: 'shutdown',
      gateways: 1,
      authServices: 1,
      env: { ...LENIENT, ...SECRETS, LOG_LEVEL: 'verbose', NODE_OPTIONS: AS_PID_ONE },
    });
  }, 240_000);

  afterAll(async () => {
    await system?.close();
  }, 60_000);

  /** A request that is under way when the signal arrives: its body is sent half before, half after. */
  interface UnderWay {
    target: () => AppProcess;
    request: (account: Account, session: Session) => { head: string; body: string };
  }
  const bearer = (session: Session) => `Authorization: Bearer ${session.accessToken}\r\n`;
  const post = (method: string, path: string, body: unknown, extra = '') => {
    const text = JSON.stringify(body);
    return {
      head: `${method} ${path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${text.length}\r\n${extra}\r\n`,
      body: text,
    };
  };
  const cases: [string, UnderWay][] = [
    [
      'api-gateway',
      {
        target: () => system.gateways[0],
        request: (_a, s) => post('PATCH', '/api/profile', { displayName: 'through the gateway' }, bearer(s)),
      },
    ],
    ['auth-service', { target: () => system.authServices[0], request: (a) => post('POST', '/auth/login', a) }],
    [
      'profile-service',
      { target: () => system.profile, request: (_a, s) => post('PATCH', '/profile', { displayName: 'direct' }, bearer(s)) },
    ],
  ];

  it.each(cases)(
    '%s on SIGTERM: answers the request under way, closes an idle kept-alive connection, and exits with code 0 within 5 s',
    async (_name, { target, request }) => {
      const account = await register(system.authUrls[0]);
      const session = await logIn(system.authUrls[0], account);
      const app = target();
      const { head, body } = request(account, session);

      const idle = await rawConnection(app.url);
      idle.socket.write('GET /health HTTP/1.1\r\nHost: test\r\n\r\n');
      expect(await waitFor(async () => idle.received().includes('\r\n\r\n'), 5000, 20)).toBe(true);
      const busy = await rawConnection(app.url);
      busy.socket.write(head + body.slice(0, 5));
      await sleep(200);

      const exit = app.terminate('SIGTERM', 15_000);
      await sleep(300);
      busy.socket.write(body.slice(5));

      expect(
        await settleWithin(
          busy.closed.then(() => 'closed'),
          5000,
          'open',
        ),
      ).toBe('closed');
      expect(statusLines(busy.received())).toEqual([expect.stringMatching(/^HTTP\/1\.1 200 /)]);
      expect(
        await settleWithin(
          idle.closed.then(() => 'closed'),
          5000,
          'open',
        ),
      ).toBe('closed');
      const ended = await exit;
      expect({ app: app.app, code: ended?.code, signal: ended?.signal, log: ended ? '' : app.logTail() }).toEqual({
        app: app.app,
        code: 0,
        signal: null,
        log: '',
      });
      expect(ended!.ms).toBeLessThan(5000);

      await app.restart();
    },
    60_000,
  );

  it('each app, freshly started and asked nothing but readiness, exits with code 0 within 5 s of SIGTERM', async () => {
    const exits: Record<string, unknown> = {};
    for (const app of system.processes()) {
      await app.restart();
      const ended = await app.terminate('SIGTERM', 15_000);
      exits[app.app] = ended && { code: ended.code, signal: ended.signal, within5s: ended.ms < 5000 };
      await app.restart();
    }
    const clean = { code: 0, signal: null, within5s: true };
    expect(exits).toEqual({ 'auth-service': clean, 'profile-service': clean, 'api-gateway': clean });
  }, 180_000);

  it('each app, outside a container (the signal not ignored), also exits with code 0 rather than by the signal', async () => {
    const exits: Record<string, unknown> = {};
    for (const app of system.processes()) {
      await app.restart({ NODE_OPTIONS: '' });
      const ended = await app.terminate('SIGTERM', 15_000);
      exits[app.app] = ended && { code: ended.code, signal: ended.signal };
      await app.restart({ NODE_OPTIONS: AS_PID_ONE });
    }
    const clean = { code: 0, signal: null };
    expect(exits).toEqual({ 'auth-service': clean, 'profile-service': clean, 'api-gateway': clean });
  }, 180_000);

  it('the gateway while auth-service restarts: every request is answered 200, or 502/503 while it is away; never 500, never a hang', async () => {
    const account = await register(system.authUrls[0]);
    const session = await logIn(system.authUrls[0], account);
    // The logins use an account of their own: past MAX_SESSIONS_PER_USER (100) logins, a login ends
    // the least recently refreshed session of its account, which would be the one GET /api/me uses.
    const loginAccount = await register(system.authUrls[0]);
    const replies: Reply[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        replies.push(await call(system.gatewayUrls[0], 'GET', '/api/me', { token: session.accessToken, timeoutMs: 10_000 }));
        replies.push(
          await call(system.gatewayUrls[0], 'POST', '/api/auth/login', { from: freshIp(), body: loginAccount, timeoutMs: 10_000 }),
        );
      }
    };
    const workers = Array.from({ length: 4 }, () => worker());
    await sleep(500);
    const ended = await system.authServices[0].terminate('SIGTERM', 15_000);
    await system.authServices[0].restart();
    await sleep(1000);
    running = false;
    await Promise.all(workers);

    expect(ended?.code).toBe(0);
    const counts = statusCounts(replies);
    process.stdout.write(`shutdown: answers through the gateway while auth-service restarted: ${JSON.stringify(counts)}\n`);
    expect(Object.keys(counts).filter((status) => !['200', '502', '503'].includes(status))).toEqual([]);
    expect(replies.filter((r) => r.hung)).toHaveLength(0);
    expect((await call(system.gatewayUrls[0], 'GET', '/api/me', { token: session.accessToken })).status).toBe(200);
  }, 120_000);

  it('every line every app wrote, from start-up through traffic and shutdown, is one JSON object, with no password, token or secret in it', async () => {
    const account = await register(system.authUrls[0]);
    const session = await logIn(system.gatewayUrls[0], account, '/api/auth/login');
    await call(system.gatewayUrls[0], 'POST', '/api/auth/login', { from: freshIp(), body: { ...account, password: 'wrong-Password-77' } });
    const refreshed = await call(system.gatewayUrls[0], 'POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } });
    // A replay of the rotated token (answered from the grace window).
    await call(system.gatewayUrls[0], 'POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } });
    await call(system.gatewayUrls[0], 'GET', '/api/me', { token: session.accessToken });

    // The refused login is counted where an operator looks.
    const metrics = await call(system.authUrls[0], 'GET', '/metrics', { token: SECRETS.METRICS_TOKEN });
    expect(String(metrics.body.text)).toMatch(/^http_requests_total\{[^}]*route="\/auth\/login"[^}]*status="401"[^}]*\} [1-9]/m);

    for (const app of system.processes()) await app.terminate('SIGTERM', 15_000);
    const secrets = [
      ...Object.values(SECRETS),
      TEST_PASSWORD,
      'wrong-Password-77',
      session.accessToken,
      session.refreshToken,
      refreshed.body.refreshToken as string,
    ];
    for (const app of system.processes()) {
      const lines = app.log().split('\n').filter(Boolean);
      const notJson = lines.filter((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return parsed === null || typeof parsed !== 'object' || Array.isArray(parsed);
        } catch {
          return true;
        }
      });
      expect({ app: app.app, notJson }).toEqual({ app: app.app, notJson: [] });
      expect({ app: app.app, leaks: lines.filter((line) => secrets.some((secret) => secret && line.includes(secret))) }).toEqual({
        app: app.app,
        leaks: [],
      });
    }
    for (const app of system.processes()) await app.restart();
  }, 120_000);
});

describe('liveness and readiness while a dependency is away (the apps as processes)', () => {
  let redis: TestRedisServer;
  let system: ProcessSystem;

  beforeAll(async () => {
    redis = await startRedisServer();
    system = await startProcessSystem({ label: 'probes', gateways: 1, authServices: 1, redisUrl: redis.url });
  }, 240_000);

  afterAll(async () => {
    await system?.close();
    await redis?.stop();
  }, 60_000);

  /** `/health` and `/health/ready` of every process, e.g. `{ 'auth-service': [200, 503], ... }`. */
  const probes = async () =>
    Object.fromEntries(
      await Promise.all(
        system.processes().map(async (p) => {
          const [live, ready] = await Promise.all([call(p.url, 'GET', '/health'), call(p.url, 'GET', '/health/ready')]);
          return [p.app, [live.status, ready.status]] as const;
        }),
      ),
    );
  const everyProcess = (live: number, ready: number) => ({
    'auth-service': [live, ready],
    'profile-service': [live, ready],
    'api-gateway': [live, ready],
  });

  it('Redis down: every app stays live and goes unready; ready again within 5 s of Redis returning', async () => {
    await redis.stop();
    expect(await probes()).toEqual(everyProcess(200, 503));
    await redis.restart();
    expect(await waitFor(async () => JSON.stringify(await probes()) === JSON.stringify(everyProcess(200, 200)), 5000)).toBe(true);
    expect(system.processes().filter((p) => !p.alive())).toEqual([]);
  }, 60_000);

  it('Postgres refusing connections: the apps using it stay live and go unready; ready again within 5 s of it returning', async () => {
    const admin = new Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${system.database.name}" WITH ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [system.database.name]);
      expect(await probes()).toEqual({ 'auth-service': [200, 503], 'profile-service': [200, 503], 'api-gateway': [200, 200] });
      await admin.query(`ALTER DATABASE "${system.database.name}" WITH ALLOW_CONNECTIONS true`);
    } finally {
      await admin.query(`ALTER DATABASE "${system.database.name}" WITH ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    expect(await waitFor(async () => JSON.stringify(await probes()) === JSON.stringify(everyProcess(200, 200)), 5000)).toBe(true);
  }, 60_000);
});
