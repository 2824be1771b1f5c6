/**
 * npm run bench
 *
 * Runs every benchmark of the project one after another (each in its own process, so one cannot
 * disturb the next) and writes docs/benchmarks.md: the machine, each figure next to the baseline
 * measured in the same run, and the ratios. Figures are medians where a bench repeats rounds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TEST_POSTGRES_URL } from '@lib/testing';

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
  cpu: { guardedVsBare: number; guardedVsStock: number; guardedVsStockWithRedis: number; manyUsersVsBare: number; manyUsersVsStock: number };
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

const ROOT = join(__dirname, '..');
const BENCHES = ['ratelimit', 'refresh'] as const;

function runBench(name: string, resultFile: string): void {
  console.log(`\n=== bench:${name} ===`);
  const run = spawnSync('npm', ['run', `bench:${name}`], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, BENCH_RESULT_FILE: resultFile },
  });
  if (run.status !== 0) throw new Error(`bench:${name} failed with exit code ${run.status}`);
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
      ['set-up', 'req/s', 'p50 ms', 'p99 ms', 'Redis commands / req', 'round trips / req', 'app CPU µs / req', 'app GC pauses µs / req', 'redis-server CPU µs / req'],
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
  try {
    const files = Object.fromEntries(BENCHES.map((name) => [name, join(dir, `${name}.json`)]));
    for (const name of BENCHES) runBench(name, files[name]);
    const rateLimit = JSON.parse(readFileSync(files.ratelimit, 'utf8')) as RateLimitResult;
    const refresh = JSON.parse(readFileSync(files.refresh, 'utf8')) as RefreshResult;
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
