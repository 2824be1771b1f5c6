/**
 * npm run bench:login
 *
 * What a successful password login costs beyond its argon2id verification. In the same run, in
 * BENCH_ROUNDS interleaved rounds:
 *   (v) bare verification: `PasswordHasher.verifyOrDummy` of auth-service (same argon2id settings,
 *       same NFC handling) with the right password, BENCH_LOGINS times one after the other, in
 *       this process while auth-service idles: wall time p50 and CPU per verification;
 *   (l) login: POST /auth/login of auth-service (built, `node dist/apps/auth-service/main.js`, in a
 *       child process), BENCH_LOGINS successful logins one after the other on one keep-alive
 *       connection: p50, CPU of the auth-service process per login (process.cpuUsage, all threads,
 *       read from the process after its audit trail has written the round's events), Redis
 *       round trips per login;
 *   (o) logout: POST /auth/logout with each access token of the round: Redis round trips;
 *   (h) GET /health as many times: the CPU of a request that does no work, the HTTP stack's floor;
 *   (i) GET /health as many times, each after 10 ms of idleness: the same request when it finds
 *       the machine as a login finds it after its verification (caches and predictors cold);
 *   (c) BENCH_LOGIN_CONCURRENCY (4) logins in flight at once, BENCH_LOGINS in all: the event loop's
 *       CPU per login when it does not idle while verifications run.
 * Before round 1, auth-service serves BENCH_LOGIN_WARMUP logins (and their logouts), CONCURRENCY in
 * flight, unmeasured: a process that has just started runs its login path in V8's baseline tier and
 * spends worker-thread CPU compiling it, which a service that has served for a while no longer does
 * (docs/decisions/007-login-cpu-beyond-verification.md).
 * CPU beyond verification = (l) − (v) per login; medians of the rounds. The event loop's (main
 * thread's) CPU is read from the scheduler's ns counter for (l), (c) and (v), so the login path's
 * own share is visible apart from the argon2 pool.
 *
 * Redis round trips are counted inside auth-service (support/redis-round-trips-preload.ts): a
 * round trip is a busy period of its Redis traffic, so commands sent together count once and a
 * command that waits for another's reply counts again. With one request at a time that is the
 * number of Redis waits on the request's path. Each is named by the scripts it carried.
 *
 * Settings: BENCH_ROUNDS (5), BENCH_LOGINS (30 per round), BENCH_LOGIN_WARMUP (3000 logins before
 * round 1), BENCH_USERS (10 accounts logged into in turn), BENCH_CPU_PROF_DIR (one more login round
 * with auth-service's main thread profiled; where its CPU goes is printed by package),
 * BENCH_RESULT_FILE (JSON for npm run bench).
 * Target (issue 15): CPU beyond verification ≤ 2 ms per login; ≤ 2 round trips for lockout and
 * session creation together; logout one round trip.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RedisScript } from '@nest-hardening/redis';

import { PasswordHasher } from '../apps/auth-service/src/accounts/password-hasher';
import { createTestDatabase, freePort, startRedisServer, stopProcess } from '../test/support';
import { summariseCpuProfileByPackage } from './support/cpu-profile-summary';
import { mainThreadCpuUs } from './support/process-cpu';
import { commandDelta, readCommandStats } from './support/ratelimit-redis-command-stats';
import { median } from './support/stats';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const LOGINS = Math.max(5, Number(process.env.BENCH_LOGINS ?? 30));
const USERS = Math.max(1, Number(process.env.BENCH_USERS ?? 10));
const CONCURRENCY = Math.max(2, Number(process.env.BENCH_LOGIN_CONCURRENCY ?? 4));
const WARMUP_LOGINS = Math.max(0, Number(process.env.BENCH_LOGIN_WARMUP ?? 3000));
const ROOT = join(__dirname, '..');
const PASSWORD = 'a benchmark password of some length';
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

interface Probe {
  roundTrips: number;
  commands: number;
  carried: Record<string, number>;
  cpuUs: number;
  systemUs: number;
  mainThreadCpuUs: number;
  threads: Record<string, number>;
}

interface Round {
  verifyP50Ms: number;
  verifyCpuUs: number;
  loginP50Ms: number;
  loginCpuUs: number;
  /** Of which in the kernel (system calls, page faults). */
  loginSystemUs: number;
  loginRoundTrips: number;
  loginCommands: number;
  logoutRoundTrips: number;
  /** CPU of a request that does no work (GET /health) through the same app: the HTTP stack's floor. */
  emptyRequestCpuUs: number;
  emptyRequestSystemUs: number;
  /** CPU ms per login by auth-service thread name (clock ticks, so coarse). */
  threads: Record<string, number>;
  /** The same after 10 ms of idleness each time, as the request after a verification meets the machine. */
  idleEmptyRequestCpuUs: number;
  /** Main thread (event loop) CPU per login, µs: one at a time, with CONCURRENCY logins in flight, and a bare verification's. */
  loginMainUs: number;
  concurrentLoginMainUs: number;
  verifyMainUs: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const concurrentAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(url: string, method: string, body?: unknown, token?: string, through = agent): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: through,
        headers: {
          'user-agent': USER_AGENT,
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function readProbe(port: number): Promise<Probe> {
  const res = await new Promise<string>((resolve, reject) => {
    const req = request(`http://127.0.0.1:${port}/`, (r) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
  return JSON.parse(res) as Probe;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `task` `count` times with `width` of them in flight at once. */
async function inParallel(count: number, width: number, task: () => Promise<void>): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await task();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** Names of every Redis script of the libraries, by SHA, to say what a round trip carried. */
function scriptNames(): Map<string, string> {
  const names = new Map<string, string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.script\.ts$/.test(entry.name)) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- every script module found on disk
        for (const value of Object.values(require(path) as Record<string, unknown>)) {
          if (value instanceof RedisScript) names.set(value.sha, value.name);
        }
      }
    }
  };
  visit(join(ROOT, 'libs'));
  return names;
}

function carriedDelta(before: Probe, after: Probe, names: Map<string, string>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, count] of Object.entries(after.carried)) {
    const diff = count - (before.carried[key] ?? 0);
    if (diff <= 0) continue;
    const label = key
      .split('+')
      .map((part) => names.get(part) ?? part)
      .join(' + ');
    delta.set(label, (delta.get(label) ?? 0) + diff);
  }
  return delta;
}

function startAuthService(env: Record<string, string>, preloads: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/auth-service/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, NODE_OPTIONS: preloads.map((p) => `--require ${p}`).join(' ') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 90_000;
    const poll = () => {
      if (child.exitCode !== null) return reject(new Error(`auth-service exited with ${child.exitCode}`));
      const req = request(`http://127.0.0.1:${env.PORT}/health/ready`, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve(child);
        else setTimeout(poll, 200);
      });
      req.on('error', () => (Date.now() > deadline ? reject(new Error('auth-service did not start')) : setTimeout(poll, 200)));
      req.end();
    };
    poll();
  });
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-if-stale.js')], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(__dirname, 'tsconfig.login-bench.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const support = join(ROOT, 'dist', 'bench', 'bench', 'support');
  const redis = await startRedisServer();
  const database = await createTestDatabase('bench_login');
  const keysDir = mkdtempSync(join(tmpdir(), 'bench-login-keys-'));
  const [port, probePort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const profileFile = profileDir ? join(profileDir, 'auth-service-login.cpuprofile') : undefined;
  const secret = () => randomBytes(32).toString('base64url');
  let child: ChildProcess | undefined;
  try {
    child = await startAuthService(
      {
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: 'bench:login:',
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        KEYS_DIR: keysDir,
        REFRESH_TOKEN_SECRET: secret(),
        FINGERPRINT_SECRET: secret(),
        PSEUDONYM_SECRET: secret(),
        LOCKOUT_SECRET: secret(),
        GATEWAY_SECRET: secret(),
        // Every login comes from one address: its login budget must not refuse the bench.
        RATE_LIMIT_AUTH_LIMIT: '1000000',
        RATE_LIMIT_REGISTRATION_LIMIT: '1000000',
        MAX_SESSIONS_PER_USER: String(ROUNDS * LOGINS * 3 + 100),
        BENCH_PROBE_PORT: String(probePort),
        ...(profileFile ? { BENCH_CPU_PROFILE_FILE: profileFile } : {}),
        ...(process.env.BENCH_CPU_PROFILE_INTERVAL_US ? { BENCH_CPU_PROFILE_INTERVAL_US: process.env.BENCH_CPU_PROFILE_INTERVAL_US } : {}),
      },
      [join(support, 'redis-round-trips-preload.js'), ...(profileFile ? [join(support, 'cpu-profile-preload.js')] : [])],
    );

    const emails = Array.from({ length: USERS }, (_, i) => `bench-login-${i}-${randomBytes(4).toString('hex')}@example.com`);
    for (const email of emails) {
      const res = await call(`${base}/auth/register`, 'POST', { email, password: PASSWORD });
      if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.body}`);
    }
    let next = 0;
    const loginOnce = async (through = agent): Promise<{ ms: number; token: string }> => {
      const email = emails[next++ % emails.length];
      const started = process.hrtime.bigint();
      const res = await call(`${base}/auth/login`, 'POST', { email, password: PASSWORD }, undefined, through);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.body}`);
      return { ms, token: (JSON.parse(res.body) as { accessToken: string }).accessToken };
    };
    // Let the audit trail write what the requests emitted, so its CPU lands in the round that caused it.
    const settle = () => sleep(600);
    const logoutAll = async (tokens: readonly string[]) => {
      for (const token of tokens) {
        const res = await call(`${base}/auth/logout`, 'POST', undefined, token);
        if (res.status !== 204) throw new Error(`logout failed: ${res.status} ${res.body}`);
      }
    };
    /** LOGINS requests to GET /health one after the other, each after `idleMs` of idleness. */
    const healthRequests = async (idleMs: number) => {
      for (let i = 0; i < LOGINS; i++) {
        if (idleMs > 0) await sleep(idleMs);
        const res = await call(`${base}/health`, 'GET');
        if (res.status !== 200) throw new Error(`GET /health answered ${res.status}`);
      }
    };

    const hasher = new PasswordHasher();
    await hasher.onModuleInit();
    const storedHash = await hasher.hash(PASSWORD);
    for (let i = 0; i < 5; i++) await hasher.verifyOrDummy(storedHash, PASSWORD);
    for (let i = 0; i < 10; i++) await loginOnce();
    // In batches, each logged out after it, so that no account nears its session cap.
    for (let done = 0; done < WARMUP_LOGINS; done += 100) {
      const warmupTokens: string[] = [];
      await inParallel(Math.min(100, WARMUP_LOGINS - done), CONCURRENCY, async () => {
        warmupTokens.push((await loginOnce(concurrentAgent)).token);
      });
      await logoutAll(warmupTokens);
    }
    await settle();

    const names = scriptNames();
    const rounds: Round[] = [];
    let carried = new Map<string, number>();
    let logoutCarried = new Map<string, number>();
    let commands: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const verifyMs: number[] = [];
      const verifyCpu = process.cpuUsage();
      const verifyMain = mainThreadCpuUs();
      for (let i = 0; i < LOGINS; i++) {
        const started = process.hrtime.bigint();
        if (!(await hasher.verifyOrDummy(storedHash, PASSWORD))) throw new Error('bare verification failed');
        verifyMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      const verifyUsed = process.cpuUsage(verifyCpu);
      const verifyMainUsed = mainThreadCpuUs() - verifyMain;

      const stats = await readCommandStats(redis.url);
      const before = await readProbe(probePort);
      const loginMs: number[] = [];
      const tokens: string[] = [];
      for (let i = 0; i < LOGINS; i++) {
        const { ms, token } = await loginOnce();
        loginMs.push(ms);
        tokens.push(token);
      }
      await settle();
      const after = await readProbe(probePort);
      const statsAfter = await readCommandStats(redis.url);
      await logoutAll(tokens);
      const afterLogout = await readProbe(probePort);
      await healthRequests(0);
      const afterEmpty = await readProbe(probePort);
      await healthRequests(10);
      const afterIdleEmpty = await readProbe(probePort);

      // Under load the event loop does not idle while a verification runs: its CPU per login then.
      const concurrentTokens: string[] = [];
      await inParallel(LOGINS, CONCURRENCY, async () => {
        concurrentTokens.push((await loginOnce(concurrentAgent)).token);
      });
      await settle();
      const afterConcurrent = await readProbe(probePort);
      await logoutAll(concurrentTokens);

      rounds.push({
        verifyP50Ms: median(verifyMs),
        verifyCpuUs: (verifyUsed.user + verifyUsed.system) / LOGINS,
        loginP50Ms: median(loginMs),
        loginCpuUs: (after.cpuUs - before.cpuUs) / LOGINS,
        loginSystemUs: (after.systemUs - before.systemUs) / LOGINS,
        loginRoundTrips: (after.roundTrips - before.roundTrips) / LOGINS,
        loginCommands: (after.commands - before.commands) / LOGINS,
        logoutRoundTrips: (afterLogout.roundTrips - after.roundTrips) / LOGINS,
        emptyRequestCpuUs: (afterEmpty.cpuUs - afterLogout.cpuUs) / LOGINS,
        emptyRequestSystemUs: (afterEmpty.systemUs - afterLogout.systemUs) / LOGINS,
        threads: Object.fromEntries(
          Object.entries(after.threads).map(([name, ticks]) => [name, ((ticks - (before.threads[name] ?? 0)) * 10) / LOGINS]),
        ),
        idleEmptyRequestCpuUs: (afterIdleEmpty.cpuUs - afterEmpty.cpuUs) / LOGINS,
        loginMainUs: (after.mainThreadCpuUs - before.mainThreadCpuUs) / LOGINS,
        concurrentLoginMainUs: (afterConcurrent.mainThreadCpuUs - afterIdleEmpty.mainThreadCpuUs) / LOGINS,
        verifyMainUs: verifyMainUsed / LOGINS,
      });
      carried = carriedDelta(before, after, names);
      logoutCarried = carriedDelta(after, afterLogout, names);
      commands = commandDelta(stats, statsAfter);
      const r = rounds[rounds.length - 1];
      console.log(
        `round ${round + 1}: verify p50 ${r.verifyP50Ms.toFixed(1)} ms, ${(r.verifyCpuUs / 1000).toFixed(2)} ms CPU; ` +
          `login p50 ${r.loginP50Ms.toFixed(1)} ms, ${(r.loginCpuUs / 1000).toFixed(2)} ms CPU (${(r.loginSystemUs / 1000).toFixed(2)} system); ` +
          `GET /health ${(r.emptyRequestCpuUs / 1000).toFixed(2)} ms CPU (${(r.emptyRequestSystemUs / 1000).toFixed(2)} system); ` +
          `after 10 ms idle ${(r.idleEmptyRequestCpuUs / 1000).toFixed(2)} ms CPU; ` +
          `main thread per login ${(r.loginMainUs / 1000).toFixed(2)} ms, ${CONCURRENCY} in flight ${(r.concurrentLoginMainUs / 1000).toFixed(2)} ms ` +
          `(verification ${(r.verifyMainUs / 1000).toFixed(2)} ms); ` +
          `round trips: login ${r.loginRoundTrips.toFixed(2)}, logout ${r.logoutRoundTrips.toFixed(2)}; CPU ms per login by thread ` +
          Object.entries(r.threads)
            .filter(([, ms]) => ms > 0)
            .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
            .join(', '),
      );
    }

    let profile: { layer: string; share: number }[] | undefined;
    if (profileFile && child.pid) {
      process.kill(child.pid, 'SIGWINCH');
      await sleep(200);
      for (let i = 0; i < LOGINS; i++) await loginOnce();
      await settle();
      process.kill(child.pid, 'SIGWINCH');
      await sleep(1000);
      profile = summariseCpuProfileByPackage(profileFile);
    }

    const m = (pick: (r: Round) => number) => median(rounds.map(pick));
    const result = {
      bench: 'login',
      settings: { rounds: ROUNDS, logins: LOGINS, users: USERS, concurrency: CONCURRENCY, warmupLogins: WARMUP_LOGINS },
      verify: { p50Ms: m((r) => r.verifyP50Ms), cpuUs: m((r) => r.verifyCpuUs) },
      login: { p50Ms: m((r) => r.loginP50Ms), cpuUs: m((r) => r.loginCpuUs), commands: m((r) => r.loginCommands) },
      cpuBeyondVerifyUs: m((r) => r.loginCpuUs - r.verifyCpuUs),
      emptyRequestCpuUs: m((r) => r.emptyRequestCpuUs),
      idleEmptyRequestCpuUs: m((r) => r.idleEmptyRequestCpuUs),
      mainThread: {
        loginUs: m((r) => r.loginMainUs),
        concurrentLoginUs: m((r) => r.concurrentLoginMainUs),
        verifyUs: m((r) => r.verifyMainUs),
      },
      /** auth-service CPU ms per login on its main thread and on all others (argon2's pool, GC helpers). */
      threadsMs: { main: m((r) => r.threads.main ?? NaN), other: m((r) => r.threads.other ?? NaN) },
      p50Ratio: m((r) => r.loginP50Ms / r.verifyP50Ms),
      roundTrips: { login: m((r) => r.loginRoundTrips), logout: m((r) => r.logoutRoundTrips) },
      loginTrips: [...carried].map(([carries, count]) => ({ carries, perLogin: count / LOGINS })),
      logoutTrips: [...logoutCarried].map(([carries, count]) => ({ carries, perLogout: count / LOGINS })),
      redisCommandsPerLogin: Object.values(commands).reduce((a, b) => a + b, 0) / LOGINS,
      perRound: rounds,
      profile,
    };

    const f = (n: number, digits = 2) => n.toFixed(digits);
    console.log(
      `\nlogin bench (${WARMUP_LOGINS} logins to warm up, then ${ROUNDS} rounds × ${LOGINS} sequential logins, ${USERS} accounts; medians of the rounds)`,
    );
    console.log(`  bare argon2id verification   p50 ${f(result.verify.p50Ms)} ms, CPU ${f(result.verify.cpuUs / 1000)} ms`);
    console.log(`  login (POST /auth/login)     p50 ${f(result.login.p50Ms)} ms, CPU ${f(result.login.cpuUs / 1000)} ms`);
    console.log(`  login p50 / verification p50 ${f(result.p50Ratio)}`);
    console.log(`  CPU beyond verification      ${f(result.cpuBeyondVerifyUs / 1000)} ms per login (target ≤ 2 ms)`);
    console.log(`  GET /health, same app        CPU ${f(result.emptyRequestCpuUs / 1000)} ms (the HTTP stack's floor per request)`);
    console.log(
      `  GET /health after 10 ms idle CPU ${f(result.idleEmptyRequestCpuUs / 1000)} ms (the same request on a machine that has idled)`,
    );
    console.log(
      `  event loop CPU per login     ${f(result.mainThread.loginUs / 1000)} ms one at a time, ${f(result.mainThread.concurrentLoginUs / 1000)} ms ` +
        `with ${CONCURRENCY} in flight (a bare verification's: ${f(result.mainThread.verifyUs / 1000)} ms)`,
    );
    console.log(`  login CPU by thread          main ${f(result.threadsMs.main)} ms, others ${f(result.threadsMs.other)} ms (clock ticks)`);
    console.log(`  Redis round trips per login  ${f(result.roundTrips.login)} (commands sent ${f(result.login.commands)})`);
    for (const trip of result.loginTrips) console.log(`    ${f(trip.perLogin)} × ${trip.carries}`);
    console.log(`  Redis round trips per logout ${f(result.roundTrips.logout)}`);
    for (const trip of result.logoutTrips) console.log(`    ${f(trip.perLogout)} × ${trip.carries}`);
    if (profile) {
      console.log('  auth-service main thread during logins (V8 profile, self time by package, share of busy time):');
      for (const p of profile.filter((x) => x.share >= 0.01)) console.log(`    ${f(p.share * 100, 1).padStart(5)} %  ${p.layer}`);
    }
    if (process.env.BENCH_RESULT_FILE) writeFileSync(process.env.BENCH_RESULT_FILE, JSON.stringify(result));
  } finally {
    if (child) await stopProcess(child);
    agent.destroy();
    concurrentAgent.destroy();
    await redis.stop();
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
