/**
 * npm run bench
 *
 * Runs every benchmark of the project one after another (each in its own process, so one cannot
 * disturb the next) and writes docs/benchmarks.md: the machine, each figure next to the baseline
 * measured in the same run, and the ratios. Figures are medians where a bench repeats rounds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { TEST_POSTGRES_URL } from '../test/support';
import { median } from './support/stats';

interface RateLimitResult {
  settings: { connections: number; warmupSec: number; durationSec: number; rounds: number };
  setups: {
    id: string;
    label: string;
    rps: number;
    p50: number;
    p99: number;
    redisCommandsPerRequest: number;
    roundTripsPerRequest: number;
    appCpuUs: number;
    appGcUs: number;
    redisCpuUs: number;
  }[];
  cpu: {
    guardedVsBare: number;
    guardedVsStock: number;
    guardedVsStockWithRedis: number;
    manyUsersVsBare: number;
    manyUsersVsStock: number;
  };
  ratios: {
    guardedVsBare: number;
    guardedVsStock: number;
    limiterVsStock: number;
    roundTrips: number;
    manyUsersVsBare: number;
    manyUsersVsStock: number;
    manyUsersRoundTrips: number;
  };
  perRound: { guardedVsBare: number[]; guardedVsStock: number[] };
  perRoundMedian: { guardedVsBare: number; guardedVsStock: number };
}

interface RefreshResult {
  clients: number;
  seconds: number;
  refreshPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number };
  redisCommandsPerRefresh: number;
  roundTripsPerRefresh: number;
  chainsAlive: number;
  baselines: { signOnlyRoutePerSecond: number; signOnlyRouteP99: number; signLoopPerSecond: number };
}

interface GatewayRatio {
  medians: number;
  perRound: number[];
}

interface GatewayResult {
  settings: {
    connections: number;
    firstWarmupSec: number;
    warmupSec: number;
    durationSec: number;
    rounds: number;
    sequential: number;
    nginx: string | null;
  };
  setups: {
    id: string;
    label: string;
    rps: number;
    p50: number;
    p99: number;
    sequentialMs: number;
    proxyCpuUs: number;
    serviceCpuUs: number;
    roundTripsPerRequest: number;
    failed: number;
  }[];
  ratios: {
    gatewayVsBare: GatewayRatio;
    gatewayVsNodeProxy: GatewayRatio;
    gatewayVsOwnProxy: GatewayRatio;
    ownProxyVsNodeProxy: GatewayRatio;
    gatewayVsNginx?: GatewayRatio;
    p50VsNginx?: GatewayRatio;
    roundTrips: number;
  };
  extraCpu: { vsBare: number; vsNodeProxy: number; ownProxyVsNodeProxy: number; frameworkAndSecurity: number };
  profile?: { layer: string; share: number }[];
}

interface LoginResult {
  settings: { rounds: number; logins: number; users: number; concurrency: number; warmupLogins: number };
  verify: { p50Ms: number; cpuUs: number };
  login: { p50Ms: number; cpuUs: number; commands: number };
  cpuBeyondVerifyUs: number;
  threadsMs: { main: number; other: number };
  emptyRequestCpuUs: number;
  idleEmptyRequestCpuUs: number;
  mainThread: { loginUs: number; concurrentLoginUs: number; verifyUs: number };
  p50Ratio: number;
  roundTrips: { login: number; logout: number };
  loginTrips: { carries: string; perLogin: number }[];
  logoutTrips: { carries: string; perLogout: number }[];
  perRound: { verifyCpuUs: number; loginCpuUs: number }[];
  profile?: { layer: string; share: number }[];
}

const ROOT = join(__dirname, '..');
const BENCHES = ['ratelimit', 'refresh', 'gateway', 'login'] as const;

function runBench(name: string, resultFile: string, env: Record<string, string> = {}): void {
  console.log(`\n=== bench:${name} ===`);
  const run = spawnSync('npm', ['run', `bench:${name}`], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, BENCH_RESULT_FILE: resultFile, ...env },
  });
  if (run.status !== 0) throw new Error(`bench:${name} failed with exit code ${run.status}`);
}

/** Runs a bench that prints its own table (no JSON result) and returns what it printed. */
function captureBench(name: string, args: string[] = []): string {
  console.log(`\n=== bench:${name} ===`);
  const run = spawnSync('npm', ['run', '--silent', `bench:${name}`, ...(args.length ? ['--', ...args] : [])], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  process.stdout.write(run.stdout);
  if (run.status !== 0) throw new Error(`bench:${name} failed with exit code ${run.status}: ${run.stderr}`);
  return run.stdout.trim();
}

async function machine(): Promise<[string, string][]> {
  const redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? 'unknown';
  const pg = new Client({ connectionString: TEST_POSTGRES_URL });
  await pg.connect();
  const postgres = (await pg.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  await pg.end();
  return [
    ['CPUs', `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown'}`],
    ['memory', `${(totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['Node.js', process.version],
    ['Redis', redis],
    ['PostgreSQL', postgres],
    ['date', new Date().toISOString()],
  ];
}

const f = (n: number, digits = 2) => n.toFixed(digits);
const table = (header: string[], rows: string[][]) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function rateLimitSection(r: RateLimitResult): string {
  const setup = (id: string) => r.setups.find((s) => s.id === id);
  return [
    '## Rate limiting (`npm run bench:ratelimit`)',
    '',
    `autocannon, ${r.settings.connections} connections, ${r.settings.warmupSec} s warm-up + ${r.settings.durationSec} s per set-up, ` +
      `${r.settings.rounds} interleaved rounds; medians. Every set-up serves the same small route from a Nest app in a child process ` +
      '(compiled to JavaScript first, as production runs) ' +
      'against a redis-server started by the bench, and receives the same requests (a bearer token and a user header; each ' +
      'set-up reads what it needs); Redis commands from `INFO commandstats` (commands run inside Lua scripts included).',
    '',
    table(
      [
        'set-up',
        'req/s',
        'p50 ms',
        'p99 ms',
        'Redis commands / req',
        'round trips / req',
        'app CPU µs / req',
        'app GC pauses µs / req',
        'redis-server CPU µs / req',
      ],
      r.setups.map((s) => [
        `(${s.id}) ${s.label}`,
        f(s.rps, 0),
        String(s.p50),
        String(s.p99),
        f(s.redisCommandsPerRequest),
        f(s.roundTripsPerRequest, 3),
        f(s.appCpuUs, 0),
        f(s.appGcUs, 1),
        f(s.redisCpuUs, 1),
      ]),
    ),
    '',
    table(
      ['ratio', 'measured', 'target'],
      [
        ['(2)/(1) full guard stack vs no guard, ratio of medians', f(r.ratios.guardedVsBare), '≥ 0.85'],
        ['(2)/(1) median of the per-round ratios', f(r.perRoundMedian.guardedVsBare), '≥ 0.85'],
        ['(2)/(3) full guard stack vs stock throttler + nest-lab storage, ratio of medians', f(r.ratios.guardedVsStock), '≥ 1.3'],
        ['(2)/(3) median of the per-round ratios', f(r.perRoundMedian.guardedVsStock), '≥ 1.3'],
        ['(2r)/(3) rate limiter alone vs stock, same inputs', f(r.ratios.limiterVsStock), '—'],
        ['(2) Redis round trips per request', f(r.ratios.roundTrips, 3), '≤ 1 on the common path'],
        [`(2u)/(1) full guard stack, ${r.settings.connections} users, vs no guard`, f(r.ratios.manyUsersVsBare), '—'],
        [`(2u)/(3) full guard stack, ${r.settings.connections} users, vs stock`, f(r.ratios.manyUsersVsStock), '—'],
        ['(2u) Redis round trips per request', f(r.ratios.manyUsersRoundTrips, 3), '≤ 1'],
      ],
    ),
    '',
    'The same comparisons by CPU cost: requests per CPU-second of the app process (medians of the rounds), and with ' +
      "redis-server's CPU added. A second view, not a steadier one: it leaves out time the app spent waiting, but other " +
      'load on a shared machine still moves CPU per request between runs.',
    '',
    table(
      ['ratio of requests per CPU-second', 'measured', 'req/s target'],
      [
        ['(2) vs (1)', f(r.cpu.guardedVsBare), '≥ 0.85'],
        ['(2) vs (3), app only', f(r.cpu.guardedVsStock), '≥ 1.3'],
        ['(2) vs (3), app + redis-server', f(r.cpu.guardedVsStockWithRedis), '≥ 1.3'],
        ['(2u) vs (1)', f(r.cpu.manyUsersVsBare), '—'],
        ['(2u) vs (3), app only', f(r.cpu.manyUsersVsStock), '—'],
      ],
    ),
    '',
    `(2) includes ES256 token verification (cached per token), the session check (cached ≤ 500 ms, pub/sub-invalidated) and two ` +
      `policies (general per user + per-IP ceiling); (3) authenticates nobody and makes ${f(setup('3')?.roundTripsPerRequest ?? 0, 0)} round trips. ` +
      'The rate-limit decisions a gateway needs in one event-loop turn share one script call (at most 64 requests per call), ' +
      'so under this load a request costs a fraction of a round trip; (2u) gives every connection its own user, so a call ' +
      'carries many trackers instead of one. ' +
      `The two target ratios within each round: (2)/(1) ${r.perRound.guardedVsBare.map((x) => f(x)).join(', ')}; ` +
      `(2)/(3) ${r.perRound.guardedVsStock.map((x) => f(x)).join(', ')}. ` +
      'Set-ups of one round run seconds apart, so a slow spell of the machine moves one per-round ratio but can move the ' +
      'ratio of medians a lot; a target counts as met only when both estimates reach it. ' +
      "GC pauses are the app's main-thread pauses (perf_hooks `gc` entries), part of its CPU per request.",
  ].join('\n');
}

function refreshSection(r: RefreshResult): string {
  return [
    '## Refresh-token rotation (`npm run bench:refresh`)',
    '',
    `${r.clients} clients, each refreshing its own session chain (every refresh presents the token the previous one returned) for ` +
      `${r.seconds} s against auth-service in a child process with its own redis-server. Baselines in the same run: a route that ` +
      'only signs the same ES256 access token (same HTTP stack and load), and the bare signing loop.',
    '',
    table(
      ['figure', 'value'],
      [
        ['refresh throughput', `${f(r.refreshPerSecond, 0)} req/s`],
        ['refresh latency p50 / p90 / p99', `${f(r.latencyMs.p50, 1)} / ${f(r.latencyMs.p90, 1)} / ${f(r.latencyMs.p99, 1)} ms`],
        ['sign-only route (baseline)', `${f(r.baselines.signOnlyRoutePerSecond, 0)} req/s, p99 ${f(r.baselines.signOnlyRouteP99, 1)} ms`],
        ['refresh / sign-only route', f(r.refreshPerSecond / r.baselines.signOnlyRoutePerSecond)],
        ['bare ES256 signing loop', `${f(r.baselines.signLoopPerSecond, 0)} ops/s`],
        ['Redis round trips per refresh', f(r.roundTripsPerRefresh, 3)],
        ['Redis commands per refresh (inside the script included)', f(r.redisCommandsPerRefresh)],
        ['session chains alive after the run', `${r.chainsAlive}/${r.clients}`],
      ],
    ),
  ].join('\n');
}

function gatewaySection(r: GatewayResult): string {
  const ratio = (x: GatewayRatio | undefined, target: string) =>
    x ? [f(x.medians), f(median(x.perRound)), target, x.perRound.map((v) => f(v)).join(', ')] : ['—', '—', target, 'nginx not installed'];
  return [
    '## The gateway hop (`npm run bench:gateway`)',
    '',
    `\`GET /profile\` of profile-service with a valid token (the service verifies it and checks the session; its per-user ` +
      `budget is charged by the service when called directly, by the gateway when proxied by it), autocannon, ${r.settings.connections} connections, each set-up warmed ${r.settings.firstWarmupSec} s once before the first round, then ` +
      `${r.settings.warmupSec} s warm-up + ${r.settings.durationSec} s per set-up, ${r.settings.rounds} interleaved rounds against the same running processes; medians. The apps run built, as ` +
      'production runs them (`node dist/apps/<app>/main.js`), against a redis-server started by the bench, with limits raised ' +
      `so nothing is refused. "sequential" is the mean latency of ${r.settings.sequential} requests one after the other on one ` +
      'keep-alive connection. CPU per request from `/proc` of the proxy process(es) and of profile-service; Redis round trips ' +
      "are the gateway's and the service's together.",
    '',
    table(
      [
        'set-up',
        'req/s',
        'p50 ms',
        'p99 ms',
        'sequential ms',
        'proxy CPU µs / req',
        'service CPU µs / req',
        'Redis round trips / req',
        'failed',
      ],
      r.setups.map((s) => [
        `(${s.id}) ${s.label}`,
        f(s.rps, 0),
        f(s.p50, 1),
        f(s.p99, 1),
        f(s.sequentialMs),
        Number.isFinite(s.proxyCpuUs) ? f(s.proxyCpuUs, 0) : '—',
        f(s.serviceCpuUs, 0),
        f(s.roundTripsPerRequest, 3),
        String(s.failed),
      ]),
    ),
    '',
    // The starting point, as issue 19 measured it (same service and load, two rounds), for comparison with the table above.
    'Before the gateway kept connections alive (issue 19, measured before the change with 2 rounds of the same load): ' +
      'direct 3,100–4,400 req/s (p50 10–14 ms), nginx 2,800–3,600 req/s (p50 12–19 ms), http-proxy-middleware 1,700–2,600 req/s ' +
      '(p50 17–27 ms), and the gateway 620–960 req/s at p50 1,460–1,650 ms and p99 2,700–2,860 ms, every proxied answer ' +
      'carrying `Connection: close`.',
    '',
    table(
      ['ratio', 'of medians', 'median per round', 'target', 'per round'],
      [
        ['(d)/(c) req/s, gateway vs http-proxy-middleware + keep-alive Agent', ...ratio(r.ratios.gatewayVsBare, '≥ 0.9')],
        ['(d)/(b) req/s, gateway vs nginx', ...ratio(r.ratios.gatewayVsNginx, '≥ 0.6')],
        ['(d)/(b) p50, gateway vs nginx', ...ratio(r.ratios.p50VsNginx, '≤ 1.5')],
        ['(d)/(cn) req/s, gateway vs bare node:http proxy', ...ratio(r.ratios.gatewayVsNodeProxy, '—')],
        ["(cg)/(cn) req/s, the gateway's UpstreamProxy alone vs bare node:http proxy", ...ratio(r.ratios.ownProxyVsNodeProxy, '—')],
        ['(d)/(cg) req/s, gateway vs its UpstreamProxy alone', ...ratio(r.ratios.gatewayVsOwnProxy, '—')],
        ['(d) Redis round trips per proxied request, gateway + service', f(r.ratios.roundTrips, 3), '', '≤ 0.2', ''],
      ],
    ),
    '',
    `What (d) costs over the bare proxies, in proxy CPU per request (medians): ${f(r.extraCpu.vsBare, 0)} µs over (c), ` +
      `${f(r.extraCpu.vsNodeProxy, 0)} µs over (cn); of that, the gateway's UpstreamProxy itself (cg) − (cn) ${f(r.extraCpu.ownProxyVsNodeProxy, 0)} µs ` +
      `(its undici pool in place of (cn)'s node:http Agent, forwarded headers, hop-by-hop filtering, rate-limit header merge, abort and retry handling), ` +
      `and Nest + Express + the guards (token, session check, rate limit) + metrics in front of it (d) − (cg) ${f(r.extraCpu.frameworkAndSecurity, 0)} µs.` +
      (r.profile
        ? ' Where it goes (V8 CPU profile of the gateway in one more run of (d) after the rounds, self time by layer, share of the sampled busy time; ' +
          'on a shared machine a thread preempted inside a system call is sampled there, so the socket-write share is inflated): ' +
          r.profile
            .filter((p) => p.share >= 0.01)
            .map((p) => `${p.layer} ${f(p.share * 100, 1)} %`)
            .join(', ') +
          '.'
        : ''),
  ].join('\n');
}

function loginSection(r: LoginResult): string {
  const lockoutAndSession = r.loginTrips.filter((t) => /lockout|session/.test(t.carries)).reduce((sum, t) => sum + t.perLogin, 0);
  return [
    '## Login (`npm run bench:login`)',
    '',
    `${r.settings.rounds} interleaved rounds of ${r.settings.logins} successful logins one after the other (one keep-alive connection, ` +
      `${r.settings.users} accounts in turn) at POST /auth/login of auth-service (built, in a child process, own redis-server, ` +
      `${r.settings.warmupLogins} logins served unmeasured before the first round so that V8 has compiled the login path), and the ` +
      "same number of bare verifications with auth-service's own `PasswordHasher` (argon2id, same settings) in the bench process " +
      'while auth-service idles; medians of the rounds. CPU is all threads of the process (argon2 runs in the libuv pool), ' +
      "auth-service's read after its audit trail has written the round's events. A Redis round trip is a wait for Redis: commands " +
      'sent together count once (counted inside auth-service, see bench/support/redis-round-trips-preload.ts).',
    '',
    table(
      ['figure', 'value', 'target'],
      [
        ['bare argon2id verification p50 / CPU', `${f(r.verify.p50Ms, 1)} ms / ${f(r.verify.cpuUs / 1000)} ms`, ''],
        ['login p50 / CPU', `${f(r.login.p50Ms, 1)} ms / ${f(r.login.cpuUs / 1000)} ms`, ''],
        ['login p50 / verification p50', f(r.p50Ratio), ''],
        ['CPU beyond the verification, per login', `${f(r.cpuBeyondVerifyUs / 1000)} ms`, '≤ 2 ms'],
        ['per round (login − verification CPU, ms)', r.perRound.map((x) => f((x.loginCpuUs - x.verifyCpuUs) / 1000)).join(', '), ''],
        ['CPU of GET /health on the same app (a request that does no work)', `${f(r.emptyRequestCpuUs / 1000)} ms`, ''],
        ['the same GET /health, each after 10 ms of idleness', `${f(r.idleEmptyRequestCpuUs / 1000)} ms`, ''],
        [
          `event loop CPU per login: one at a time / ${r.settings.concurrency} in flight (a bare verification's: ${f(r.mainThread.verifyUs / 1000)} ms)`,
          `${f(r.mainThread.loginUs / 1000)} ms / ${f(r.mainThread.concurrentLoginUs / 1000)} ms`,
          '',
        ],
        [
          'login CPU on the main thread / on the other threads (argon2 pool, GC helpers)',
          `${f(r.threadsMs.main)} ms / ${f(r.threadsMs.other)} ms`,
          '',
        ],
        ['Redis round trips per login, all', f(r.roundTrips.login), ''],
        ['Redis round trips per login, lockout + session', f(lockoutAndSession), '≤ 2'],
        ['Redis round trips per logout', f(r.roundTrips.logout), 'logout script: 1'],
      ],
    ),
    '',
    'What each login round trip carried: ' +
      r.loginTrips.map((t) => `${f(t.perLogin)} × ${t.carries}`).join('; ') +
      '. ' +
      'Logout: ' +
      r.logoutTrips.map((t) => `${f(t.perLogout)} × ${t.carries}`).join('; ') +
      ' (check-session is the authentication of the bearer token every protected route makes; the logout itself is one script).' +
      (r.profile
        ? " Where auth-service's main thread spends a login (V8 CPU profile of one more round, self time by package, share of " +
          'the sampled busy time; argon2 runs on other threads and is not in it; on a shared machine a thread preempted in a system ' +
          'call is sampled there, which inflates the socket writes): ' +
          r.profile
            .filter((p) => p.share >= 0.02)
            .map((p) => `${p.layer} ${f(p.share * 100, 1)} %`)
            .join(', ') +
          '.'
        : ''),
  ].join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
  try {
    const files = Object.fromEntries(BENCHES.map((name) => [name, join(dir, `${name}.json`)]));
    // The gateway bench also profiles the gateway (in a run of its own) for the report.
    for (const name of BENCHES) runBench(name, files[name], name === 'gateway' || name === 'login' ? { BENCH_CPU_PROF_DIR: dir } : {});
    const rateLimit = JSON.parse(readFileSync(files.ratelimit, 'utf8')) as RateLimitResult;
    const refresh = JSON.parse(readFileSync(files.refresh, 'utf8')) as RefreshResult;
    const gateway = JSON.parse(readFileSync(files.gateway, 'utf8')) as GatewayResult;
    const login = JSON.parse(readFileSync(files.login, 'utf8')) as LoginResult;
    const revocation = captureBench('revocation');
    // Also rewrites docs/capacity.md from the figures of this run.
    const memory = captureBench('memory', ['--write']);
    const report = [
      '# Benchmark report',
      '',
      'Written by `npm run bench`. Each figure sits next to a baseline measured in the same run on the same machine; compare the ratios, ' +
        'not absolute numbers across machines (this machine is shared and load from other work moves absolute figures by tens of percent).',
      '',
      '## Machine',
      '',
      table(['', ''], await machine()),
      '',
      rateLimitSection(rateLimit),
      '',
      refreshSection(refresh),
      '',
      gatewaySection(gateway),
      '',
      loginSection(login),
      '',
      '## Revocation messages (`npm run bench:revocation`)',
      '',
      'Event-loop time a process spends on revocation messages, with its cache of positive session answers full.',
      '',
      revocation,
      '',
      '## Redis memory per unit (`npm run bench:memory`)',
      '',
      memory.replace(/\nwrote docs\/capacity\.md$/, ''),
      '',
      'Extrapolated to 10 M sessions and 1 M attacking addresses in [capacity.md](capacity.md).',
      '',
      'Reliability figures (revocation delay, admitted counts across instances, recovery time, memory growth) are printed by ' +
        '`npm run test:reliability`.',
      '',
    ].join('\n');
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    writeFileSync(join(ROOT, 'docs/benchmarks.md'), report);
    console.log('\nwrote docs/benchmarks.md');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
