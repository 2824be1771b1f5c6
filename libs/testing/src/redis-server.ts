import { spawn, type ChildProcess } from 'node:child_process';

import { Redis, type RedisOptions } from 'ioredis';

import { freePort } from './free-port';

/** A standalone redis-server owned by one test, on a free loopback port. */
export interface TestRedisServer {
  port: number;
  url: string;
  /** Stops the server (SIGKILL, like a crash) and waits for the process to exit. */
  stop(): Promise<void>;
  /** Starts the server again on the same port, so clients reconnect by themselves. */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers, like a hung server. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
  /**
   * Runs `during` with the server frozen, and lets it run again `outlastMs` later: a stall that
   * outlasts the client's command timeouts, after which Redis runs the commands it was sent (a
   * call's deadline errs late by the last call's send-to-run delay, so the margin is generous).
   */
  stalled<T>(during: () => Promise<T>, outlastMs?: number): Promise<T>;
}

function spawnServer(port: number, extraArgs: readonly string[] = []): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extraArgs],
    { stdio: 'ignore' },
  );
}

/** A client of 127.0.0.1:port that connects once when asked and never retries; its errors are not events. */
export function probeClient(port: number, connection: RedisOptions = {}): Redis {
  const probe = new Redis({
    ...connection,
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  return probe;
}

/**
 * Resolves once `PING` on 127.0.0.1:port answers, or rejects after `timeoutMs`. `connection` adds
 * what the server asks of a client (a password, TLS).
 */
export async function waitForRedis(port: number, timeoutMs = 5000, connection: RedisOptions = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = probeClient(port, connection);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || (child.signalCode !== null && child.signalCode !== 'SIGSTOP')) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Starts a throw-away redis-server (no persistence) on a free port. Use it for tests that must
 * stop Redis (outages); the shared Redis on 6379 is never stopped by a test.
 *
 * @example
 * const server = await startRedisServer();
 * await server.stop(); ... await server.restart(); ... await server.stop();
 */
export async function startRedisServer(extraArgs: readonly string[] = []): Promise<TestRedisServer> {
  const port = await freePort();
  let child = spawnServer(port, extraArgs);
  await waitForRedis(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await stopProcess(child);
    },
    async restart() {
      await stopProcess(child);
      child = spawnServer(port, extraArgs);
      await waitForRedis(port);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stalled(during, outlastMs = 300) {
      child.kill('SIGSTOP');
      try {
        const result = await during();
        await new Promise((resolve) => setTimeout(resolve, outlastMs));
        return result;
      } finally {
        child.kill('SIGCONT');
      }
    },
  };
}
