import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { pemCaFile, redisClusterSeeds, redisConnection, type Env } from '@nest-hardening/config';
import { deleteClusterKeysWithPrefix, deleteKeysWithPrefix, freePort, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { createTestDatabase, type TestDatabase } from './test-database';

export type AppName = 'api-gateway' | 'auth-service' | 'profile-service';

/** One app running as a real child process (`node dist/apps/<app>/main.js`). */
export interface AppProcess {
  app: AppName;
  /** Position among the processes of the same app (gateway 0, 1, 2; auth-service 0, 1). */
  index: number;
  port: number;
  url: string;
  pid: number;
  /** True while the process has neither exited nor been killed. */
  alive(): boolean;
  /** Resident set size in kB (VmRSS of /proc/<pid>/status). */
  rssKb(): number;
  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  logTail(lines?: number): string;
  /** Every line the process wrote (stdout and stderr) since it first started, restarts included. */
  log(): string;
  /**
   * Sends `signal` (as an orchestrator stopping it does) and resolves with how the process ended,
   * or with `undefined` if it still runs after `timeoutMs` (it is then killed).
   */
  terminate(signal?: NodeJS.Signals, timeoutMs?: number): Promise<AppExit | undefined>;
  /** Starts the process again on its port with the settings of its last start (`env` merged over them), and waits until it is ready. */
  restart(env?: Env): Promise<void>;
}

/** How a process ended: its exit code, or the signal that ended it, and how long after the signal. */
export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

export interface ProcessSystemOptions {
  label?: string;
  /** Number of api-gateway processes (default 3); gateway i uses auth-service i % authServices. */
  gateways?: number;
  /** Number of auth-service processes (default 2). */
  authServices?: number;
  /** Redis every process shares (default the shared test Redis). */
  redisUrl?: string;
  /**
   * Seed nodes of a Redis Cluster every process uses instead (`REDIS_CLUSTER_NODES`), e.g.
   * `startRedisCluster().nodes`; clean-up then deletes the keys on every master it can reach.
   */
  redisClusterNodes?: string[];
  /** Settings for every app. */
  env?: Env;
  authEnv?: Env;
  profileEnv?: Env;
  gatewayEnv?: Env;
  /** How long each process may take to answer /health/ready (default 90 s: the machine may be busy). */
  readyTimeoutMs?: number;
}

export interface ProcessSystem {
  gateways: AppProcess[];
  authServices: AppProcess[];
  profile: AppProcess;
  gatewayUrls: string[];
  authUrls: string[];
  profileUrl: string;
  /** Every process, in start order (restarted gateways replace the old entries). */
  processes(): AppProcess[];
  keyPrefix: string;
  database: TestDatabase;
  /** Stops every gateway and starts it again on the same port with `gatewayEnv` merged over the original settings. */
  restartGateways(gatewayEnv: Env): Promise<void>;
  /** Kills every process (SIGKILL), removes the keys, the database and the temporary folders. */
  close(): Promise<void>;
}

const ROOT = resolve(__dirname, '../..');
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A test runner that dies must not leave app processes behind: kill them on the way out. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

function mainFile(app: AppName): string {
  return join(ROOT, 'dist/apps', app, 'main.js');
}

function getStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveStatus(0));
  });
}

class ChildApp implements AppProcess {
  readonly url: string;
  private child!: ChildProcess;
  private env: Env = {};

  constructor(
    readonly app: AppName,
    readonly index: number,
    readonly port: number,
    private readonly logFile: string,
    private readonly readyTimeoutMs: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  start(env: Env): void {
    this.env = env;
    const log = openSync(this.logFile, 'a');
    try {
      this.child = spawn(process.execPath, [mainFile(this.app)], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(this.port), HOST: '127.0.0.1' },
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    running.add(this.child);
    this.child.once('exit', () => running.delete(this.child));
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  rssKb(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!match) throw new Error(`no VmRSS for ${this.app} ${this.index} (pid ${this.pid})`);
    return Number(match[1]);
  }

  logTail(lines = 20): string {
    return this.log().trimEnd().split('\n').slice(-lines).join('\n');
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async terminate(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<AppExit | undefined> {
    if (!this.alive()) throw new Error(`${this.app} ${this.index} is not running`);
    const child = this.child;
    const sent = Date.now();
    const exited = new Promise<AppExit>((done) =>
      child.once('exit', (code, exitSignal) => done({ code, signal: exitSignal, ms: Date.now() - sent })),
    );
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([exited, new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), timeoutMs)))]);
    clearTimeout(timer);
    if (!outcome) await this.kill();
    return outcome;
  }

  async restart(env: Env = {}): Promise<void> {
    await this.kill();
    this.start({ ...this.env, ...env });
    await this.waitReady(this.readyTimeoutMs);
  }

  /** Polls /health/ready until it answers 200; fails at once if the process exits. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive()) {
        throw new Error(`${this.app} ${this.index} exited during start-up (code ${this.child.exitCode}):\n${this.logTail()}`);
      }
      if ((await getStatus(`${this.url}/health/ready`, 5000)) === 200) return;
      if (Date.now() > deadline) throw new Error(`${this.app} ${this.index} not ready within ${timeoutMs} ms:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async kill(): Promise<void> {
    if (!this.child || !this.alive()) return;
    await new Promise<void>((done) => {
      this.child.once('exit', () => done());
      this.child.kill('SIGKILL');
    });
  }
}

/**
 * Starts the built apps (`npm run build` first) as real child processes on free loopback ports:
 * `gateways` api-gateways, `authServices` auth-services and one profile-service, sharing one Redis
 * (own key prefix) and one fresh Postgres database (migrated once by createTestDatabase). All
 * processes share the same signing key and secrets, like a production deployment. Resolves once
 * every process answers /health/ready; `close()` kills them all.
 *
 * @example
 * const system = await startProcessSystem({ redisUrl: redis.url, gatewayEnv: { RATE_LIMIT_AUTH_LIMIT: '5' } });
 * ... await system.close();
 */
export async function startProcessSystem(options: ProcessSystemOptions = {}): Promise<ProcessSystem> {
  for (const app of ['api-gateway', 'auth-service', 'profile-service'] as const) {
    if (!existsSync(mainFile(app))) throw new Error(`${mainFile(app)} is missing: run \`npm run build\` first`);
  }
  installExitHook();
  const label = options.label ?? 'procs';
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const keyPrefix = uniqueKeyPrefix(label);
  const database = await createTestDatabase(label);
  const workDir = mkdtempSync(join(tmpdir(), 'sec-procs-'));
  const secret = () => randomBytes(32).toString('base64url');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const shared: Env = {
    REDIS_URL: redisUrl,
    ...(options.redisClusterNodes ? { REDIS_CLUSTER_NODES: options.redisClusterNodes.join(',') } : {}),
    REDIS_KEY_PREFIX: keyPrefix,
    DATABASE_URL: database.url,
    DATABASE_MIGRATE_ON_START: 'false',
    KEYS_DIR: join(workDir, 'keys'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    JWT_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    REFRESH_TOKEN_SECRET: secret(),
    FINGERPRINT_SECRET: secret(),
    PSEUDONYM_SECRET: secret(),
    LOCKOUT_SECRET: secret(),
    GATEWAY_SECRET: secret(),
    ...options.env,
  };
  const all: ChildApp[] = [];
  const create = async (app: AppName, index: number) => {
    const child = new ChildApp(app, index, await freePort(), join(workDir, `${app}-${index}.log`), readyTimeoutMs);
    all.push(child);
    return child;
  };
  const gatewayEnvFor = (index: number, extra: Env = {}): Env => ({
    ...shared,
    AUTH_SERVICE_URL: authServices[index % authServices.length].url,
    PROFILE_SERVICE_URL: profile.url,
    ...options.gatewayEnv,
    ...extra,
  });

  const authServices: ChildApp[] = [];
  const gateways: ChildApp[] = [];
  let profile!: ChildApp;
  const cleanUp = async () => {
    await Promise.allSettled(all.map((p) => p.kill()));
    // Best effort, like the rest: a test may have stopped its cluster (and removed its CA file) first.
    await (async () => {
      const redis = redisConnection({
        REDIS_URL: redisUrl,
        REDIS_CLUSTER_NODES: redisClusterSeeds().parse(shared.REDIS_CLUSTER_NODES),
        REDIS_TLS_CA_FILE: pemCaFile().parse(shared.REDIS_TLS_CA_FILE),
      });
      await (redis.clusterNodes
        ? deleteClusterKeysWithPrefix(keyPrefix, redis.clusterNodes, redis)
        : deleteKeysWithPrefix(keyPrefix, redis.url));
    })().catch(() => undefined);
    await database.drop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < (options.authServices ?? 2); i++) authServices.push(await create('auth-service', i));
    for (const auth of authServices) auth.start({ ...shared, ...options.authEnv });
    await Promise.all(authServices.map((p) => p.waitReady(readyTimeoutMs)));

    profile = await create('profile-service', 0);
    profile.start({ ...shared, AUTH_SERVICE_URL: authServices[0].url, ...options.profileEnv });
    for (let i = 0; i < (options.gateways ?? 3); i++) gateways.push(await create('api-gateway', i));
    gateways.forEach((gateway, i) => gateway.start(gatewayEnvFor(i)));
    await Promise.all([profile, ...gateways].map((p) => p.waitReady(readyTimeoutMs)));
  } catch (error) {
    await cleanUp();
    throw error;
  }

  return {
    gateways,
    authServices,
    profile,
    gatewayUrls: gateways.map((g) => g.url),
    authUrls: authServices.map((a) => a.url),
    profileUrl: profile.url,
    processes: () => [...authServices, profile, ...gateways],
    keyPrefix,
    database,
    async restartGateways(gatewayEnv: Env) {
      await Promise.all(gateways.map((g) => g.kill()));
      gateways.forEach((gateway, i) => gateway.start(gatewayEnvFor(i, gatewayEnv)));
      await Promise.all(gateways.map((g) => g.waitReady(readyTimeoutMs)));
    },
    close: cleanUp,
  };
}
