/**
 * npm run bench:ratelimit
 *
 * Throughput and latency of one small route in three set-ups, each a Nest app in a child process
 * on a free port, all against a redis-server this script starts (so `INFO commandstats` sees only
 * this bench's traffic):
 *   (1) bare     no guard
 *   (2) guarded  AccessTokenGuard (JWT + session check) + RateLimitGuard (general per user + ipCeiling)
 *   (3) stock    @nestjs/throttler ThrottlerGuard + @nest-lab/throttler-storage-redis, per-user + per-IP
 * plus (2b) guarded with the revocation cache off (every request checks the session in Redis), (0p) a
 * guard that only waits for one Redis PING per event-loop turn (what waiting for Redis costs), and
 * (2r) RateLimitGuard alone with the user from a header, like (3): the limiter without token verification,
 * and (2u) the (2) stack with one user per connection (the other set-ups send one user's requests).
 * The access token comes from the real auth-service (in-process test system on the same Redis).
 * Every set-up receives the same requests (that token and an x-bench-user header), so only the
 * server's guard stack differs between them.
 * The set-ups are measured in BENCH_ROUNDS interleaved rounds (default 5, each round in a rotated
 * order) and the median of each figure is reported, because this machine is shared and noisy; the
 * target ratios also as the median of the per-round ratios, and a target is met only when both reach it.
 * BENCH_DURATION_SEC / BENCH_WARMUP_SEC change the run length; BENCH_CPU_PROF_DIR writes CPU profiles;
 * BENCH_EXTRA=1 adds (2b) and (0p); BENCH_RESULT_FILE=<path> also writes the figures as JSON (npm run bench);
 * BENCH_SETUPS=1,2 measures only the set-ups listed (a quick comparison: table only, no target ratios).
 * Targets (issue 3): (2) >= 0.85 x (1), (2) >= 1.3 x (3), at most one Redis round trip per request in (2).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { registerAndLogin, startRedisServer, startTestSystem, type TestRedisServer, type TestSystem } from '../test/support';
import { readGcPauses, type GcPauses } from './support/gc-pauses';
import { processCpuSeconds, redisCpuSeconds } from './support/process-cpu';
import { commandDelta, readCommandStats, type CommandCounts } from './support/ratelimit-redis-command-stats';
import { median } from './support/stats';

// autocannon ships no type declarations; only the fields used here.
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  setupClient?: (client: { setHeaders(headers: Record<string, string>): void }) => void;
}) => Promise<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

const CONNECTIONS = 50;
const WARMUP_SEC = Number(process.env.BENCH_WARMUP_SEC ?? 2);
const DURATION_SEC = Number(process.env.BENCH_DURATION_SEC ?? 6);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const ROOT = join(__dirname, '..');

interface Setup {
  id: string;
  label: string;
  mode: 'bare' | 'guarded' | 'limiter' | 'stock' | 'parked';
  env?: Record<string, string>;
  headers?: Record<string, string>;
  /** Headers per connection (round-robin), for set-ups with many clients. */
  clientHeaders?: Record<string, string>[];
}

interface Measured {
  setup: Setup;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  commands: CommandCounts;
  /** CPU microseconds per request of the app process and of redis-server (NaN without procfs). */
  appCpuUs: number;
  redisCpuUs: number;
  /** The app's main-thread GC pauses per request, in microseconds (part of appCpuUs; NaN if unknown). */
  appGcUs: number;
}

/**
 * Compiles the app under test to JavaScript (dist/bench), so it runs as production runs (the
 * Dockerfile starts `node dist/...`). Run through ts-node, every set-up also carried the TypeScript
 * compiler in its heap and Node's `domain` module, which ts-node loads (through `repl`) and which
 * wraps every EventEmitter: costs no deployment pays. `@nest-hardening/*` imports are resolved at run time by
 * tsconfig-paths against the compiled tree (TS_NODE_BASEURL).
 */
function compileApp(): string {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(__dirname, 'tsconfig.bench-app.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return join(ROOT, 'dist', 'bench');
}

function startApp(setup: Setup, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      // BENCH_CPU_PROF_DIR=<dir>: each app writes a V8 CPU profile there on exit (to see where the time goes).
      ...(process.env.BENCH_CPU_PROF_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`, `--cpu-prof-name=${setup.id}.cpuprofile`]
        : []),
      '-r',
      'tsconfig-paths/register',
      join(env.TS_NODE_BASEURL, 'bench', 'support', 'ratelimit-bench-app.js'),
    ],
    { cwd: ROOT, env: { ...process.env, ...env, BENCH_MODE: setup.mode, ...setup.env }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${setup.id}: app did not start within 60 s`)), 60_000);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = /READY (\d+)/.exec(out);
      if (ready) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${ready[1]}/bench/ping` });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${setup.id}: app exited with ${code}`));
    });
  });
}

function stopApp(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function measure(setup: Setup, redis: TestRedisServer, env: Record<string, string>): Promise<Measured> {
  const { child, url } = await startApp(setup, env);
  child.removeAllListeners('exit');
  try {
    const probe = await fetch(url, { headers: setup.headers ?? setup.clientHeaders?.[0] });
    if (probe.status !== 200) throw new Error(`${setup.id}: probe answered ${probe.status}: ${await probe.text()}`);
    await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_SEC, ...loadOptions(setup) });
    const before = await readCommandStats(redis.url);
    const gcBefore = await readGcPauses(child);
    const [appCpuBefore, redisCpuBefore] = [processCpuSeconds(child.pid), await redisCpuSeconds(redis.url)];
    const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_SEC, ...loadOptions(setup) });
    const [appCpuAfter, redisCpuAfter] = [processCpuSeconds(child.pid), await redisCpuSeconds(redis.url)];
    const gcAfter = await readGcPauses(child);
    const after = await readCommandStats(redis.url);
    const perRequestUs = (seconds: number) => (seconds * 1e6) / Math.max(1, result.requests.total);
    return {
      setup,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      requests: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      commands: commandDelta(before, after),
      appCpuUs: appCpuBefore === undefined || appCpuAfter === undefined ? NaN : perRequestUs(appCpuAfter - appCpuBefore),
      redisCpuUs: perRequestUs(redisCpuAfter - redisCpuBefore),
      appGcUs: gcBefore && gcAfter ? perRequestUs((gcPauseMs(gcAfter) - gcPauseMs(gcBefore)) / 1000) : NaN,
    };
  } finally {
    await stopApp(child);
  }
}

const gcPauseMs = (pauses: GcPauses) => pauses.minorMs + pauses.majorMs;

/** The headers of a set-up: the same for every connection, or one set per connection. */
function loadOptions(setup: Setup): Pick<Parameters<Autocannon>[0], 'headers' | 'setupClient'> {
  const perClient = setup.clientHeaders;
  if (!perClient) return { headers: setup.headers };
  let next = 0;
  return { setupClient: (client) => client.setHeaders(perClient[next++ % perClient.length]) };
}

/** One set-up's rounds: median throughput and latencies, totals of requests, failures and commands. */
function combine(runs: Measured[]): Measured {
  const commands: CommandCounts = {};
  for (const run of runs) for (const [name, calls] of Object.entries(run.commands)) commands[name] = (commands[name] ?? 0) + calls;
  return {
    setup: runs[0].setup,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    commands,
    appCpuUs: median(runs.map((r) => r.appCpuUs)),
    redisCpuUs: median(runs.map((r) => r.redisCpuUs)),
    appGcUs: median(runs.map((r) => r.appGcUs)),
  };
}

function writeResultFile(result: unknown): void {
  const file = process.env.BENCH_RESULT_FILE;
  if (file) writeFileSync(file, JSON.stringify(result, null, 2));
}

const sum = (counts: CommandCounts) => Object.values(counts).reduce((a, b) => a + b, 0);
const scripts = (counts: CommandCounts) => (counts.evalsha ?? 0) + (counts.eval ?? 0);
const fixed = (n: number, digits = 2) => n.toFixed(digits);

function printTable(results: Measured[]): void {
  const rows = results.map((r) => ({
    setup: `(${r.setup.id}) ${r.setup.label}`,
    'req/s': fixed(r.rps, 0),
    'p50 ms': String(r.p50),
    'p99 ms': String(r.p99),
    requests: String(r.requests),
    'non-2xx': String(r.non2xx),
    errors: String(r.errors),
    'redis cmds/req': fixed(sum(r.commands) / r.requests),
    'round trips/req': fixed(scripts(r.commands) / r.requests),
    'app CPU us/req': fixed(r.appCpuUs, 0),
    'app GC us/req': fixed(r.appGcUs, 1),
    'redis CPU us/req': fixed(r.redisCpuUs, 1),
  }));
  const columns = Object.keys(rows[0]) as (keyof (typeof rows)[0])[];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(line(columns));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(columns.map((c) => row[c])));
  console.log('\nRedis commands per request, by command (script-internal commands included):');
  for (const r of results) {
    const parts = Object.entries(r.commands)
      .sort((a, b) => b[1] - a[1])
      .map(([name, calls]) => `${name}=${fixed(calls / r.requests, 3)}`);
    console.log(`  (${r.setup.id}) ${parts.join(' ') || 'none'}`);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startRedisServer();
  let system: TestSystem | undefined;
  try {
    system = await startTestSystem({
      label: 'bench_ratelimit',
      env: { REDIS_URL: redis.url },
      gatewayEnv: { RATE_LIMIT_AUTH_LIMIT: '1000', RATE_LIMIT_GENERAL_LIMIT: '100000' },
    });
    const user = await registerAndLogin(system.gatewayUrl);
    // (2u): one user per connection, so a batch holds many trackers (the single-user set-ups share one).
    const users = [user];
    while (users.length < CONNECTIONS) users.push(await registerAndLogin(system.gatewayUrl));
    const env = {
      TS_NODE_BASEURL: compileApp(),
      BENCH_REDIS_URL: redis.url,
      // The same prefix as the test system: the session the token belongs to lives there.
      BENCH_KEY_PREFIX: system.keyPrefix,
      BENCH_JWKS_URL: new URL('/.well-known/jwks.json', system.authUrl).toString(),
    };
    // Every set-up receives byte-identical requests: a client's bearer token and the user header the
    // unauthenticated set-ups ((2r), (3)) take the user from. Each set-up reads what it needs and
    // ignores the rest, so the ratios compare guard stacks, not request sizes (the token alone is
    // about 600 bytes that every app's HTTP parser reads).
    const request = (u: typeof user) => ({ authorization: `Bearer ${u.accessToken}`, 'x-bench-user': u.id });
    const sameRequest = request(user);
    const setups: Setup[] = [
      { id: '1', label: 'no guard', mode: 'bare', headers: sameRequest },
      { id: '2', label: 'AccessTokenGuard + RateLimitGuard', mode: 'guarded', headers: sameRequest },
      { id: '3', label: 'stock ThrottlerGuard + nest-lab redis', mode: 'stock', headers: sameRequest },
      { id: '2r', label: 'RateLimitGuard only (user from header)', mode: 'limiter', headers: sameRequest },
      {
        id: '2u',
        label: `(2) with ${CONNECTIONS} users, one per connection`,
        mode: 'guarded',
        clientHeaders: users.map(request),
      },
      ...(process.env.BENCH_EXTRA
        ? ([
            {
              id: '2b',
              label: '(2), revocation cache off',
              mode: 'guarded',
              headers: sameRequest,
              env: { BENCH_REVOCATION_CACHE_MS: '0' },
            },
            { id: '0p', label: 'guard waiting for one PING per turn', mode: 'parked', headers: sameRequest },
          ] as Setup[])
        : []),
    ];
    console.log(
      `ratelimit bench: ${CONNECTIONS} connections, ${WARMUP_SEC} s warm-up + ${DURATION_SEC} s per set-up, ` +
        `${ROUNDS} interleaved rounds (medians reported), own redis-server ${redis.url}\n`,
    );
    const runs = new Map<string, Measured[]>(setups.map((setup) => [setup.id, []]));
    // BENCH_SETUPS=1,2: only these set-ups (a quick comparison; the ratios need 1, 2, 3, 2r and 2u).
    const only = process.env.BENCH_SETUPS?.split(',');
    const selected = only ? setups.filter((setup) => only.includes(setup.id)) : setups;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no set-up always runs first (or last) on a warming machine.
      const order = selected.map((_, i) => selected[(i + round) % selected.length]);
      for (const setup of order) {
        const measured = await measure(setup, redis, env);
        runs.get(setup.id)?.push(measured);
        // The app's CPU per request too: it moves by ±20% between processes of the same set-up.
        process.stdout.write(
          `  round ${round + 1}: (${setup.id}) ${fixed(measured.rps, 0)} req/s, app CPU ${fixed(measured.appCpuUs, 1)} µs/req (GC ${fixed(measured.appGcUs, 1)})\n`,
        );
      }
    }
    const results = selected.map((setup) => combine(runs.get(setup.id) ?? []));
    console.log('');
    printTable(results);
    if (selected !== setups) return;

    const byId = (id: string) => results.find((r) => r.setup.id === id) as Measured;
    const [bare, guarded, stock, limiterOnly, manyUsers] = ['1', '2', '3', '2r', '2u'].map(byId);
    const vsBare = guarded.rps / bare.rps;
    const vsStock = guarded.rps / stock.rps;
    const roundTrips = scripts(guarded.commands) / guarded.requests;
    // The same ratios within each round: the two set-ups ran seconds apart, on the machine's state of
    // the moment, so a slow spell that hits one set-up's runs more than the other's moves the ratio of
    // medians but only one paired ratio. A target counts as met only if both estimates meet it.
    const perRound = (a: string, b: string) => (runs.get(a) ?? []).map((run, r) => run.rps / (runs.get(b) ?? [])[r].rps);
    const spread = { guardedVsBare: perRound('2', '1'), guardedVsStock: perRound('2', '3') };
    const paired = { guardedVsBare: median(spread.guardedVsBare), guardedVsStock: median(spread.guardedVsStock) };
    const met = (ratio: number, pairedRatio: number, target: number) => (Math.min(ratio, pairedRatio) >= target ? 'yes' : 'NO');
    console.log('\nRatios (req/s)                       of medians   median per round   target   met');
    console.log(
      `  (2)/(1) guarded vs no guard        ${fixed(vsBare).padStart(10)}   ${fixed(paired.guardedVsBare).padStart(16)}   >= 0.85  ${met(vsBare, paired.guardedVsBare, 0.85)}`,
    );
    console.log(
      `  (2)/(3) guarded vs stock throttler ${fixed(vsStock).padStart(10)}   ${fixed(paired.guardedVsStock).padStart(16)}   >= 1.30  ${met(vsStock, paired.guardedVsStock, 1.3)}`,
    );
    // The common path (a cached session answer) is exactly one script call; the session is re-checked
    // in Redis once per REVOCATION_CACHE_MS per token, which adds a few thousandths on average.
    console.log(
      `  (2) Redis round trips per request  ${fixed(roundTrips, 3).padStart(8)}   <= 1 on the common path  ${roundTrips < 1.01 ? 'yes' : 'NO'}`,
    );
    console.log(
      `  (2r)/(3) limiter alone vs stock   ${fixed(limiterOnly.rps / stock.rps).padStart(8)}   (same inputs: no token verification)`,
    );
    console.log(`  (2r)/(1) limiter alone vs no guard ${fixed(limiterOnly.rps / bare.rps).padStart(8)}`);
    console.log(`  (2u)/(1) ${CONNECTIONS} users vs no guard   ${fixed(manyUsers.rps / bare.rps).padStart(8)}`);
    console.log(`  (2u)/(3) ${CONNECTIONS} users vs stock      ${fixed(manyUsers.rps / stock.rps).padStart(8)}`);
    console.log(`  (2u) Redis round trips per request ${fixed(scripts(manyUsers.commands) / manyUsers.requests, 3).padStart(8)}`);
    console.log(`  p99 (2)/(1) ${fixed(guarded.p99 / Math.max(1, bare.p99))}, p99 (2)/(3) ${fixed(guarded.p99 / Math.max(1, stock.p99))}`);
    // Requests per CPU-second: what each set-up's own cost allows, without the time it spent waiting.
    const cpu = {
      guardedVsBare: bare.appCpuUs / guarded.appCpuUs,
      guardedVsStock: stock.appCpuUs / guarded.appCpuUs,
      guardedVsStockWithRedis: (stock.appCpuUs + stock.redisCpuUs) / (guarded.appCpuUs + guarded.redisCpuUs),
      manyUsersVsBare: bare.appCpuUs / manyUsers.appCpuUs,
      manyUsersVsStock: stock.appCpuUs / manyUsers.appCpuUs,
    };
    console.log('\nCPU cost per request, as a throughput ratio (requests per app CPU-second)');
    console.log(
      `  (2) vs (1)  ${fixed(cpu.guardedVsBare)}   (2) vs (3)  ${fixed(cpu.guardedVsStock)}   (2) vs (3), app + redis-server  ${fixed(cpu.guardedVsStockWithRedis)}`,
    );
    console.log(`  (2u) vs (1) ${fixed(cpu.manyUsersVsBare)}   (2u) vs (3) ${fixed(cpu.manyUsersVsStock)}`);
    console.log(
      `  req/s per round: (2)/(1) ${spread.guardedVsBare.map((x) => fixed(x)).join(' ')}; (2)/(3) ${spread.guardedVsStock.map((x) => fixed(x)).join(' ')}`,
    );
    if (results.some((r) => r.non2xx > 0 || r.errors > 0)) console.log('\nWARNING: some responses were not 2xx or failed; see the table.');
    console.log(`\ntotal ${fixed((Date.now() - started) / 1000, 1)} s`);
    writeResultFile({
      bench: 'ratelimit',
      settings: { connections: CONNECTIONS, warmupSec: WARMUP_SEC, durationSec: DURATION_SEC, rounds: ROUNDS },
      setups: results.map((r) => ({
        id: r.setup.id,
        label: r.setup.label,
        rps: r.rps,
        p50: r.p50,
        p99: r.p99,
        redisCommandsPerRequest: sum(r.commands) / r.requests,
        roundTripsPerRequest: scripts(r.commands) / r.requests,
        appCpuUs: r.appCpuUs,
        appGcUs: r.appGcUs,
        redisCpuUs: r.redisCpuUs,
      })),
      cpu,
      ratios: {
        guardedVsBare: vsBare,
        guardedVsStock: vsStock,
        limiterVsStock: limiterOnly.rps / stock.rps,
        roundTrips,
        manyUsersVsBare: manyUsers.rps / bare.rps,
        manyUsersVsStock: manyUsers.rps / stock.rps,
        manyUsersRoundTrips: scripts(manyUsers.commands) / manyUsers.requests,
      },
      perRound: spread,
      perRoundMedian: paired,
    });
  } finally {
    await system?.close();
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
