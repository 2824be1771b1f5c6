/**
 * npm run bench:gateway
 *
 * The hop from client to service: `GET /profile` of profile-service (token verification, session
 * check, and its per-user budget: charged by the service when called directly, by the gateway when
 * proxied by it) with a valid token, served
 *   (a) direct      by the service itself, no proxy
 *   (b) nginx       behind nginx with a keep-alive upstream pool (skipped, with a note, without nginx)
 *   (c) bare proxy  behind http-proxy-middleware with a keep-alive Agent, nothing else
 *   (cn) node proxy behind a bare node:http proxy with a keep-alive Agent (no framework)
 *   (cg) own proxy  behind the gateway's UpstreamProxy class (undici pool) on a bare node:http server (no Nest, no guards)
 *   (d) gateway     behind the api-gateway with its full security (token, session check, limits)
 * The apps run as production runs them (`node dist/apps/<app>/main.js`, built first when stale) as
 * child processes against a redis-server this script starts, so `INFO commandstats` counts only
 * this traffic. Limits are raised so nothing is refused. The set-ups are measured in BENCH_ROUNDS
 * interleaved rounds (rotated order) against the same running processes; medians, and the target
 * ratios also as the median of the per-round ratios (a target is met only when both reach it).
 * BENCH_ROUNDS (5), BENCH_DURATION_SEC (6), BENCH_WARMUP_SEC (2: before each measurement),
 * BENCH_FIRST_WARMUP_SEC (10: each set-up once before round 1, so that round 1 measures processes
 * past their start-up: the JIT and heap sizes of a process that has served for a while), BENCH_CONNECTIONS (50),
 * BENCH_SEQUENTIAL (300: requests of the one-connection latency run), BENCH_CPU_PROF_DIR (after
 * the rounds, one more run of (d) with the gateway and profile-service profiled; the profiles are written there and
 * summarised by layer), BENCH_SETUPS=c,d (only those set-ups: table only, no target ratios),
 * BENCH_RESULT_FILE (JSON for npm run bench).
 * Targets (issue): (d) >= 0.9 x (c) and >= 0.6 x (b) in req/s, (d) p50 <= 1.5 x (b), Redis round
 * trips per proxied request (gateway and service together) <= 0.2.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';

import { registerAndLogin, startProcessSystem, startRedisServer, type ProcessSystem, type TestRedisServer } from '../test/support';
import { summariseCpuProfile } from './support/cpu-profile-summary';
import { nginxVersion, startNginxProxy, type NginxProxy } from './support/nginx-proxy';
import { processCpuSeconds } from './support/process-cpu';
import { commandDelta, readCommandStats, type CommandCounts } from './support/ratelimit-redis-command-stats';
import { median, percentile } from './support/stats';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
/** A run under way: a promise of its result that also emits each response with its latency in (fractional) ms. */
type AutocannonRun = Promise<AutocannonResult> & {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, latencyMs: number) => void): void;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => AutocannonRun;

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP_SEC = Number(process.env.BENCH_WARMUP_SEC ?? 2);
const FIRST_WARMUP_SEC = Number(process.env.BENCH_FIRST_WARMUP_SEC ?? 10);
const DURATION_SEC = Number(process.env.BENCH_DURATION_SEC ?? 6);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 300);
const ROOT = join(__dirname, '..');
/** Commands only ever run inside Lua scripts here: counted by commandstats, but not round trips. */
const SCRIPT_INNER = new Set([
  'get',
  'set',
  'incrby',
  'incr',
  'pexpire',
  'pexpireat',
  'pttl',
  'time',
  'hmget',
  'hget',
  'exists',
  'expire',
  'decrby',
  'mget',
]);

interface Setup {
  id: string;
  label: string;
  url: string;
  /** Processes whose CPU is the proxy's (none for (a)). */
  proxyPids: () => number[];
}

interface Measured {
  id: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failed: number;
  commands: CommandCounts;
  proxyCpuUs: number;
  serviceCpuUs: number;
  sequentialMs: number;
}

const fixed = (n: number, digits = 2) => (Number.isNaN(n) ? '—' : n.toFixed(digits));
const sum = (counts: CommandCounts) => Object.values(counts).reduce((a, b) => a + b, 0);
/** Round trips: script calls plus every command not known to run only inside a script. */
const roundTrips = (counts: CommandCounts) =>
  Object.entries(counts).reduce((n, [name, calls]) => n + (SCRIPT_INNER.has(name) ? 0 : calls), 0);
const cpuOf = (pids: number[]) => pids.reduce((total, pid) => total + (processCpuSeconds(pid) ?? NaN), 0);

function buildAppsIfStale(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-if-stale.js')], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * Compiles the bench's own processes to JavaScript (dist/bench) so they run as production runs, with
 * no ts-node in their heap; `@nest-hardening/*` imports resolve at run time through tsconfig-paths (TS_NODE_BASEURL).
 */
function compileSupport(): string {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(__dirname, 'tsconfig.gateway-bench.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return join(ROOT, 'dist', 'bench');
}

/** One of the bare proxies (bare-proxies.ts, gateway-proxy-only-app.ts) on a free port. */
function startBareProxy(compiled: string, file: string, target: string, kind = ''): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-r', 'tsconfig-paths/register', join(compiled, 'bench', 'support', file)], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_BASEURL: compiled, BARE_PROXY: kind, BARE_TARGET: target },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const ready = /READY (\d+)/.exec(text);
      if (ready) resolve({ child, url: `http://127.0.0.1:${ready[1]}` });
    });
    child.once('exit', (code) => reject(new Error(`${file} ${kind} exited with ${code}`)));
  });
}

/** Mean latency of `count` sequential requests over one keep-alive connection. */
async function sequentialMs(url: string, headers: Record<string, string>, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url} answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    for (let i = 0; i < 20; i++) await once();
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await once();
    return Number(process.hrtime.bigint() - started) / 1e6 / count;
  } finally {
    agent.destroy();
  }
}

async function measure(setup: Setup, headers: Record<string, string>, redis: TestRedisServer, servicePid: number): Promise<Measured> {
  await autocannon({ url: setup.url, connections: CONNECTIONS, duration: WARMUP_SEC, headers });
  const before = await readCommandStats(redis.url);
  const [proxyBefore, serviceBefore] = [cpuOf(setup.proxyPids()), cpuOf([servicePid])];
  const run = autocannon({ url: setup.url, connections: CONNECTIONS, duration: DURATION_SEC, headers });
  // autocannon's own percentiles come from a histogram of whole milliseconds, too coarse for a ratio of
  // two p50s near 10 ms (8 against 12 is 1.5, against 11 is 1.38): the exact latencies of the 2xx answers instead.
  const latencies: number[] = [];
  run.on('response', (_client, statusCode, _bytes, latencyMs) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(latencyMs);
  });
  const result = await run;
  latencies.sort((x, y) => x - y);
  const [proxyAfter, serviceAfter] = [cpuOf(setup.proxyPids()), cpuOf([servicePid])];
  const after = await readCommandStats(redis.url);
  const perRequestUs = (seconds: number) => (seconds * 1e6) / Math.max(1, result.requests.total);
  return {
    id: setup.id,
    rps: result.requests.average,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    requests: result.requests.total,
    failed: result.non2xx + result.errors + result.timeouts,
    commands: commandDelta(before, after),
    proxyCpuUs: setup.proxyPids().length ? perRequestUs(proxyAfter - proxyBefore) : NaN,
    serviceCpuUs: perRequestUs(serviceAfter - serviceBefore),
    sequentialMs: await sequentialMs(setup.url, headers, SEQUENTIAL),
  };
}

function combine(runs: Measured[]): Measured {
  const commands: CommandCounts = {};
  for (const run of runs) for (const [name, calls] of Object.entries(run.commands)) commands[name] = (commands[name] ?? 0) + calls;
  const pick = (f: (m: Measured) => number) => median(runs.map(f));
  return {
    id: runs[0].id,
    rps: pick((r) => r.rps),
    p50: pick((r) => r.p50),
    p99: pick((r) => r.p99),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    failed: runs.reduce((n, r) => n + r.failed, 0),
    commands,
    proxyCpuUs: pick((r) => r.proxyCpuUs),
    serviceCpuUs: pick((r) => r.serviceCpuUs),
    sequentialMs: pick((r) => r.sequentialMs),
  };
}

/** Profiles each process during `load` (SIGWINCH starts and stops it, see cpu-profile-preload.ts) and prints where its CPU went. */
async function cpuProfiles(
  processes: { name: string; pid: number; file: string }[],
  load: () => Promise<unknown>,
): Promise<Record<string, { layer: string; share: number }[]>> {
  for (const p of processes) process.kill(p.pid, 'SIGWINCH');
  await load();
  for (const p of processes) process.kill(p.pid, 'SIGWINCH');
  const summaries: Record<string, { layer: string; share: number }[]> = {};
  for (const p of processes) {
    for (let i = 0; i < 100 && !existsSync(p.file); i++) await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(p.file)) continue;
    await new Promise((r) => setTimeout(r, 500));
    const profile = summariseCpuProfile(p.file);
    console.log(`\nWhere the ${p.name} CPU goes under the same load (self time, share of busy time):`);
    for (const layer of profile.slice(0, 16)) console.log(`  ${fixed(layer.share * 100, 1).padStart(5)} %  ${layer.layer}`);
    summaries[p.name] = profile;
  }
  return summaries;
}

async function main(): Promise<void> {
  const started = Date.now();
  buildAppsIfStale();
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const profileFile = profileDir ? join(profileDir, `api-gateway-${Date.now()}.cpuprofile`) : undefined;
  const serviceProfileFile = profileDir ? join(profileDir, `profile-service-${Date.now()}.cpuprofile`) : undefined;
  const raised = { RATE_LIMIT_GENERAL_LIMIT: '100000000', RATE_LIMIT_AUTH_LIMIT: '1000' };
  const compiled = compileSupport();
  // The processes to profile load the preload that starts and stops V8's profiler on SIGWINCH.
  const profiled = (file: string | undefined) =>
    file
      ? {
          NODE_OPTIONS: `--require ${join(compiled, 'bench', 'support', 'cpu-profile-preload.js')}`,
          BENCH_CPU_PROFILE_FILE: file,
          ...(process.env.BENCH_CPU_PROFILE_INTERVAL_US
            ? { BENCH_CPU_PROFILE_INTERVAL_US: process.env.BENCH_CPU_PROFILE_INTERVAL_US }
            : {}),
        }
      : {};
  const redis = await startRedisServer();
  let system: ProcessSystem | undefined;
  let nginx: NginxProxy | undefined;
  const children: ChildProcess[] = [];
  try {
    system = await startProcessSystem({
      label: 'bench_gateway',
      gateways: 1,
      authServices: 1,
      redisUrl: redis.url,
      gatewayEnv: { ...raised, ...profiled(profileFile) },
      profileEnv: profiled(serviceProfileFile),
      // profile-service's budget, charged by the gateway for proxied requests and by the service for direct ones.
      env: { RATE_LIMIT_PROFILE_LIMIT: '100000000' },
    });
    const user = await registerAndLogin(system.gatewayUrls[0]);
    const headers = { authorization: `Bearer ${user.accessToken}` };
    const gateway = system.gateways[0];
    const hpm = await startBareProxy(compiled, 'bare-proxies.js', system.profileUrl, 'hpm');
    const bare = await startBareProxy(compiled, 'bare-proxies.js', system.profileUrl, 'node');
    const own = await startBareProxy(compiled, 'gateway-proxy-only-app.js', system.profileUrl);
    children.push(hpm.child, bare.child, own.child);
    const version = nginxVersion();
    if (version) nginx = await startNginxProxy(new URL(system.profileUrl));
    else console.log('NOTE: nginx is not installed, (b) is skipped (apt-get install nginx-light to measure it).\n');
    const setups: Setup[] = [
      { id: 'a', label: 'direct to the service', url: `${system.profileUrl}/profile`, proxyPids: () => [] },
      ...(nginx
        ? [{ id: 'b', label: `nginx ${version}, keep-alive upstream`, url: `${nginx.url}/api/profile`, proxyPids: nginx.pids.bind(nginx) }]
        : []),
      { id: 'c', label: 'http-proxy-middleware + keep-alive Agent', url: `${hpm.url}/api/profile`, proxyPids: () => [hpm.child.pid ?? -1] },
      { id: 'cn', label: 'bare node:http keep-alive proxy', url: `${bare.url}/api/profile`, proxyPids: () => [bare.child.pid ?? -1] },
      {
        id: 'cg',
        label: "the gateway's UpstreamProxy on bare node:http",
        url: `${own.url}/api/profile`,
        proxyPids: () => [own.child.pid ?? -1],
      },
      { id: 'd', label: 'api-gateway, full security', url: `${gateway.url}/api/profile`, proxyPids: () => [gateway.pid] },
    ];
    for (const setup of setups) {
      const probe = await fetch(setup.url, { headers });
      if (probe.status !== 200) throw new Error(`(${setup.id}) probe answered ${probe.status}: ${await probe.text()}`);
    }
    console.log(
      `gateway bench: GET /profile, ${CONNECTIONS} connections, each set-up warmed ${FIRST_WARMUP_SEC} s once, then ${WARMUP_SEC} s warm-up + ${DURATION_SEC} s per set-up, ` +
        `${ROUNDS} interleaved rounds (medians), then ${SEQUENTIAL} sequential requests on one connection; own redis-server ${redis.url}\n`,
    );
    // BENCH_SETUPS=c,d: only these set-ups (a quick comparison; the target ratios need c, cn, cg and d).
    const only = process.env.BENCH_SETUPS?.split(',');
    const selected = only ? setups.filter((setup) => only.includes(setup.id)) : setups;
    const runs = new Map<string, Measured[]>(selected.map((s) => [s.id, []]));
    // Without it, a set-up's first round ran 10 % slower than its later ones ((d): 155 against 130-136 µs of CPU per request).
    if (FIRST_WARMUP_SEC > 0) {
      for (const setup of selected) await autocannon({ url: setup.url, connections: CONNECTIONS, duration: FIRST_WARMUP_SEC, headers });
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = selected.map((_, i) => selected[(i + round) % selected.length]);
      for (const setup of order) {
        const m = await measure(setup, headers, redis, system.profile.pid);
        runs.get(setup.id)?.push(m);
        console.log(
          `  round ${round + 1}: (${setup.id}) ${fixed(m.rps, 0)} req/s, p50 ${fixed(m.p50, 1)} ms, proxy CPU ${fixed(m.proxyCpuUs, 0)} µs/req, ` +
            `service CPU ${fixed(m.serviceCpuUs, 0)} µs/req, sequential ${fixed(m.sequentialMs)} ms${m.failed ? `, ${m.failed} FAILED` : ''}`,
        );
      }
    }
    const results = selected.map((s) => combine(runs.get(s.id) ?? []));
    const byId = (id: string) => results.find((r) => r.id === id);
    console.log('');
    const rows = results.map((r) => {
      const setup = setups.find((s) => s.id === r.id) as Setup;
      return [
        `(${r.id}) ${setup.label}`,
        fixed(r.rps, 0),
        fixed(r.p50, 1),
        fixed(r.p99, 1),
        fixed(r.sequentialMs),
        fixed(r.proxyCpuUs, 0),
        fixed(r.serviceCpuUs, 0),
        fixed(roundTrips(r.commands) / r.requests, 3),
        String(r.failed),
      ];
    });
    const header = [
      'set-up',
      'req/s',
      'p50 ms',
      'p99 ms',
      'sequential ms',
      'proxy CPU µs/req',
      'service CPU µs/req',
      'Redis round trips/req',
      'failed',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    console.log('\nRedis commands per request, by command (script-internal commands included):');
    for (const r of results) {
      console.log(
        `  (${r.id}) ${
          Object.entries(r.commands)
            .sort((a, b) => b[1] - a[1])
            .map(([n, c]) => `${n}=${fixed(c / r.requests, 3)}`)
            .join(' ') || 'none'
        }`,
      );
    }

    // Profiled in a run of its own after the rounds, so the profiler's cost is in no figure above.
    const profile =
      profileFile && serviceProfileFile
        ? (
            await cpuProfiles(
              [
                { name: 'gateway', pid: gateway.pid, file: profileFile },
                { name: 'profile-service', pid: system.profile.pid, file: serviceProfileFile },
              ],
              () => autocannon({ url: `${gateway.url}/api/profile`, connections: CONNECTIONS, duration: DURATION_SEC, headers }),
            )
          ).gateway
        : undefined;
    if (selected !== setups) return;
    const d = byId('d') as Measured;
    const c = byId('c') as Measured;
    const cn = byId('cn') as Measured;
    const cg = byId('cg') as Measured;
    const b = byId('b');
    const perRound = (x: string, y: string, f: (m: Measured) => number = (m) => m.rps) =>
      (runs.get(x) ?? []).map((run, i) => f(run) / f((runs.get(y) ?? [])[i]));
    const ratios = {
      gatewayVsBare: { medians: d.rps / c.rps, perRound: perRound('d', 'c') },
      gatewayVsNodeProxy: { medians: d.rps / cn.rps, perRound: perRound('d', 'cn') },
      gatewayVsOwnProxy: { medians: d.rps / cg.rps, perRound: perRound('d', 'cg') },
      ownProxyVsNodeProxy: { medians: cg.rps / cn.rps, perRound: perRound('cg', 'cn') },
      gatewayVsNginx: b ? { medians: d.rps / b.rps, perRound: perRound('d', 'b') } : undefined,
      p50VsNginx: b ? { medians: d.p50 / b.p50, perRound: perRound('d', 'b', (m) => m.p50) } : undefined,
      roundTrips: roundTrips(d.commands) / d.requests,
    };
    const met = (r: { medians: number; perRound: number[] } | undefined, target: number, atMost = false) => {
      if (!r) return 'skipped';
      const values = [r.medians, median(r.perRound)];
      return (atMost ? Math.max(...values) <= target : Math.min(...values) >= target) ? 'yes' : 'NO';
    };
    const show = (name: string, r: { medians: number; perRound: number[] } | undefined, target: string, ok: string) =>
      console.log(
        `  ${name.padEnd(44)} ${r ? fixed(r.medians).padStart(8) : '       —'}  ${r ? fixed(median(r.perRound)).padStart(8) : '       —'}  ${target.padEnd(8)} ${ok}   per round: ${r ? r.perRound.map((x) => fixed(x)).join(' ') : '—'}`,
      );
    console.log('\nRatios                                        of medians  per round  target   met');
    show('(d)/(c) req/s gateway vs bare proxy', ratios.gatewayVsBare, '>= 0.9', met(ratios.gatewayVsBare, 0.9));
    show('(d)/(b) req/s gateway vs nginx', ratios.gatewayVsNginx, '>= 0.6', met(ratios.gatewayVsNginx, 0.6));
    show('(d)/(b) p50 gateway vs nginx', ratios.p50VsNginx, '<= 1.5', met(ratios.p50VsNginx, 1.5, true));
    show('(d)/(cn) req/s gateway vs bare node:http', ratios.gatewayVsNodeProxy, '—', '');
    show('(cg)/(cn) req/s UpstreamProxy vs bare node:http', ratios.ownProxyVsNodeProxy, '—', '');
    show('(d)/(cg) req/s gateway vs its UpstreamProxy alone', ratios.gatewayVsOwnProxy, '—', '');
    console.log(
      `  (d) Redis round trips per proxied request      ${fixed(ratios.roundTrips, 3)}   <= 0.2   ${ratios.roundTrips <= 0.2 ? 'yes' : 'NO'}`,
    );
    const extraCpu = {
      vsBare: d.proxyCpuUs - c.proxyCpuUs,
      vsNodeProxy: d.proxyCpuUs - cn.proxyCpuUs,
      ownProxyVsNodeProxy: cg.proxyCpuUs - cn.proxyCpuUs,
      frameworkAndSecurity: d.proxyCpuUs - cg.proxyCpuUs,
    };
    console.log(
      `\nProxy CPU per request: (d) ${fixed(d.proxyCpuUs, 0)} µs, (c) ${fixed(c.proxyCpuUs, 0)} µs, (cn) ${fixed(cn.proxyCpuUs, 0)} µs, ` +
        `(cg) ${fixed(cg.proxyCpuUs, 0)} µs; service ${fixed(d.serviceCpuUs, 0)} µs in (d). (d) - (c) = ${fixed(extraCpu.vsBare, 0)} µs: ` +
        `UpstreamProxy over a bare node:http proxy (cg) - (cn) ${fixed(extraCpu.ownProxyVsNodeProxy, 0)} µs, Nest + Express + guards + metrics (d) - (cg) ${fixed(extraCpu.frameworkAndSecurity, 0)} µs`,
    );

    if (results.some((r) => r.failed > 0)) console.log('\nWARNING: some requests failed or were not 2xx; see the table.');
    console.log(`\ntotal ${fixed((Date.now() - started) / 1000, 1)} s`);
    const file = process.env.BENCH_RESULT_FILE;
    if (file) {
      writeFileSync(
        file,
        JSON.stringify(
          {
            bench: 'gateway',
            settings: {
              connections: CONNECTIONS,
              firstWarmupSec: FIRST_WARMUP_SEC,
              warmupSec: WARMUP_SEC,
              durationSec: DURATION_SEC,
              rounds: ROUNDS,
              sequential: SEQUENTIAL,
              nginx: version ?? null,
            },
            setups: results.map((r) => ({
              id: r.id,
              label: setups.find((s) => s.id === r.id)?.label,
              rps: r.rps,
              p50: r.p50,
              p99: r.p99,
              sequentialMs: r.sequentialMs,
              proxyCpuUs: r.proxyCpuUs,
              serviceCpuUs: r.serviceCpuUs,
              redisCommandsPerRequest: sum(r.commands) / r.requests,
              roundTripsPerRequest: roundTrips(r.commands) / r.requests,
              failed: r.failed,
            })),
            ratios,
            extraCpu,
            profile,
          },
          null,
          2,
        ),
      );
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await nginx?.stop();
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
