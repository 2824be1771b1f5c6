/**
 * Refresh-token rotation: throughput and latency of POST /auth/refresh against auth-service, Redis
 * commands and round trips per refresh, and a baseline of the plain ES256 access-token signature
 * auth-service makes on every refresh, measured in the same run.
 *
 *   npm run bench:refresh            (BENCH_CLIENTS, BENCH_SECONDS, BENCH_WARMUP_SECONDS to change the load)
 *
 * Starts its own redis-server (so INFO commandstats counts only this traffic), its own Postgres
 * database and auth-service as a child process on free ports; every client holds its own session
 * and presents the token returned by its previous refresh (a real rotation chain, never a replay).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { Redis } from 'ioredis';
import { sign } from 'jsonwebtoken';

import { createTestDatabase, freePort, startRedisServer, stopProcess } from '../test/support';
import { percentile } from './support/stats';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const SIGN_SECONDS = 3;
const USER_AGENT = 'refresh-bench/1.0';
/** Commands the rotate script runs inside Redis: counted by commandstats, but not round trips. */
const SCRIPT_INNER = new Set(['time', 'hmget', 'hset', 'pexpireat', 'zadd', 'zrange', 'del', 'zrem', 'publish']);

interface HttpResult {
  status: number;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS + 4 });

function post(base: string, path: string, body: unknown): Promise<HttpResult> {
  const payload = JSON.stringify(body);
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': USER_AGENT },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitForHealth(base: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`auth-service exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const req = httpRequest(`${base}/health`, { agent }, (res) => {
        res.resume();
        r(res.statusCode === 200);
      });
      req.on('error', () => r(false));
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('auth-service did not become healthy');
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\r\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) stats.set(m[1], Number(m[2]));
  }
  return stats;
}

/** The same client load against the sign-only baseline route (no session work). */
async function runSignRouteLoad(base: string, clients: number, until: number, latencies: number[] | undefined): Promise<number> {
  let ok = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) {
        const started = process.hrtime.bigint();
        const res = await post(base, '/sign', { refreshToken: 'x'.repeat(110) });
        if (res.status !== 200) throw new Error(`sign route failed: ${res.status} ${res.body}`);
        latencies?.push(Number(process.hrtime.bigint() - started) / 1e6);
        ok++;
      }
    }),
  );
  return ok;
}

async function measureSignRoute(root: string): Promise<{ perSecond: number; latencies: number[] }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'bench/support/sign-only-bench-app.ts'],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PORT: String(port) } },
  );
  try {
    await waitForPort(base, child);
    await runSignRouteLoad(base, CLIENTS, Date.now() + WARMUP_SECONDS * 1000, undefined);
    const latencies: number[] = [];
    const started = process.hrtime.bigint();
    const ok = await runSignRouteLoad(base, CLIENTS, Date.now() + SECONDS * 1000, latencies);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    return { perSecond: ok / elapsed, latencies: latencies.sort((a, b) => a - b) };
  } finally {
    await stopProcess(child);
  }
}

async function waitForPort(base: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`baseline app exited with code ${child.exitCode}`);
    const up = await post(base, '/sign', { refreshToken: 'probe' }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('baseline app did not start');
}

/** N clients, each refreshing its own session chain back to back until `until`. */
async function runRefreshLoad(base: string, tokens: string[], until: number, latencies: number[] | undefined) {
  let ok = 0;
  let failed = 0;
  await Promise.all(
    tokens.map(async (_t, i) => {
      while (Date.now() < until) {
        const started = process.hrtime.bigint();
        const res = await post(base, '/auth/refresh', { refreshToken: tokens[i] });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (res.status !== 200) {
          failed++;
          throw new Error(`refresh failed for client ${i}: ${res.status} ${res.body}`);
        }
        tokens[i] = (JSON.parse(res.body) as { refreshToken: string }).refreshToken;
        ok++;
        latencies?.push(ms);
      }
    }),
  );
  return { ok, failed };
}

/** The access-token signature auth-service makes per refresh (AccessTokenIssuer): ES256 via jsonwebtoken. */
function runSignBaseline(seconds: number) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const sid = 'AAAAAAAAAAAAAAAAAAAAAA';
  const signOnce = () =>
    sign({ sid, role: 'user' }, privateKey as never, {
      algorithm: 'ES256',
      keyid: 'bench',
      subject: randomUUID(),
      jwtid: randomUUID(),
      issuer: 'auth-service',
      audience: 'payments-api',
      expiresIn: 900,
    });
  for (let i = 0; i < 500; i++) signOnce(); // warm-up
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();
  while (Date.now() < until) {
    const t = process.hrtime.bigint();
    signOnce();
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return { ops: latencies.length, perSecond: latencies.length / elapsed, latencies: latencies.sort((a, b) => a - b) };
}

async function main(): Promise<void> {
  const root = resolve(__dirname, '..');
  const redisServer = await startRedisServer();
  const database = await createTestDatabase('bench_refresh');
  const keysDir = mkdtempSync(join(tmpdir(), 'bench-keys-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const stats = new Redis(redisServer.url, { lazyConnect: true });
  let child: ChildProcess | undefined;
  try {
    child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/auth-service/src/main.ts'],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          REDIS_URL: redisServer.url,
          REDIS_KEY_PREFIX: 'bench:refresh:',
          DATABASE_URL: database.url,
          DATABASE_MIGRATE_ON_START: 'false',
          KEYS_DIR: keysDir,
          LOG_LEVEL: 'error',
          MAX_SESSIONS_PER_USER: String(CLIENTS + 10),
          // auth-service's own login and refresh budgets (for requests without the gateway): the
          // bench logs every client in from one address and refreshes far beyond them.
          RATE_LIMIT_AUTH_LIMIT: '1000000',
          RATE_LIMIT_REFRESH_LIMIT: '1000000000',
        },
      },
    );
    await waitForHealth(base, child);
    await stats.connect();

    // One account, one session per client.
    const email = `bench-${randomUUID().slice(0, 8)}@example.com`;
    const password = 'a benchmark password of some length';
    const registered = await post(base, '/auth/register', { email, password });
    if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${registered.body}`);
    const tokens: string[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const res = await post(base, '/auth/login', { email, password });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.body}`);
      tokens.push((JSON.parse(res.body) as { refreshToken: string }).refreshToken);
    }

    await runRefreshLoad(base, tokens, Date.now() + WARMUP_SECONDS * 1000, undefined);

    const before = await commandStats(stats);
    const latencies: number[] = [];
    const started = process.hrtime.bigint();
    const { ok } = await runRefreshLoad(base, tokens, Date.now() + SECONDS * 1000, latencies);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const after = await commandStats(stats);

    // Every chain must still be alive: a final refresh per client proves no rotation was lost.
    const final = await Promise.all(tokens.map((t) => post(base, '/auth/refresh', { refreshToken: t })));
    const chainsAlive = final.filter((r) => r.status === 200).length;

    const delta = new Map<string, number>();
    for (const [cmd, calls] of after) {
      const d = calls - (before.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0);
      if (d > 0) delta.set(cmd, d);
    }
    const totalCommands = [...delta.values()].reduce((a, b) => a + b, 0);
    const roundTrips = [...delta].filter(([cmd]) => !SCRIPT_INNER.has(cmd)).reduce((a, [, n]) => a + n, 0);
    latencies.sort((a, b) => a - b);
    const refreshPerSecond = ok / elapsed;

    stats.disconnect();
    await stopProcess(child);
    child = undefined;
    // Baselines after auth-service stopped, so they do not share the CPU with it.
    const signRoute = await measureSignRoute(root);
    const signing = runSignBaseline(SIGN_SECONDS);

    const f = (n: number, digits = 2) => n.toFixed(digits);
    const rows: [string, string][] = [
      ['clients (independent session chains)', String(CLIENTS)],
      ['measured duration (s)', f(elapsed, 1)],
      ['refreshes (all 200)', String(ok)],
      ['refresh throughput (req/s)', f(refreshPerSecond, 0)],
      ['refresh latency p50 / p90 / p99 / max (ms)', [50, 90, 99, 100].map((p) => f(percentile(latencies, p))).join(' / ')],
      ['chains alive after the run', `${chainsAlive}/${CLIENTS}`],
      ['Redis commands per refresh (incl. inside scripts)', f(totalCommands / ok)],
      ['Redis round trips per refresh (top-level commands)', f(roundTrips / ok)],
      ['baseline: sign-only route, same load (req/s)', f(signRoute.perSecond, 0)],
      [
        'baseline: sign-only route latency p50 / p99 (ms)',
        `${f(percentile(signRoute.latencies, 50))} / ${f(percentile(signRoute.latencies, 99))}`,
      ],
      ['ratio refresh / sign-only route', f(refreshPerSecond / signRoute.perSecond, 3)],
      ['bare ES256 signing loop (ops/s, 1 thread)', f(signing.perSecond, 0)],
      ['bare ES256 sign latency p50 / p99 (ms)', `${f(percentile(signing.latencies, 50), 3)} / ${f(percentile(signing.latencies, 99), 3)}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\nrefresh bench (auth-service in a child process, own redis-server ${redisServer.url})`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    console.log('\n  Redis commands during the measured run (calls, per refresh):');
    for (const [cmd, n] of [...delta].sort((a, b) => b[1] - a[1])) {
      console.log(
        `    ${cmd.padEnd(12)} ${String(n).padStart(8)}  ${f(n / ok)}${SCRIPT_INNER.has(cmd) ? '  (inside the rotate script)' : ''}`,
      );
    }
    if (chainsAlive !== CLIENTS) throw new Error(`${CLIENTS - chainsAlive} session chains were broken by the run`);
    if (process.env.BENCH_RESULT_FILE) {
      writeFileSync(
        process.env.BENCH_RESULT_FILE,
        JSON.stringify({
          bench: 'refresh',
          clients: CLIENTS,
          seconds: SECONDS,
          refreshPerSecond,
          latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99) },
          redisCommandsPerRefresh: totalCommands / ok,
          roundTripsPerRefresh: roundTrips / ok,
          chainsAlive,
          baselines: {
            signOnlyRoutePerSecond: signRoute.perSecond,
            signOnlyRouteP99: percentile(signRoute.latencies, 99),
            signLoopPerSecond: signing.perSecond,
          },
        }),
      );
    }
  } finally {
    stats.disconnect();
    if (child) await stopProcess(child);
    agent.destroy();
    await redisServer.stop();
    await database.drop().catch(() => undefined);
    rmSync(keysDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
