import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './free-port';
import { stopProcess, waitForRedis } from './redis-server';

const run = promisify(execFile);

/** A real Redis Cluster of three masters (no replicas) owned by one test. */
export interface TestRedisCluster {
  /** `127.0.0.1:port` of every node, as `RedisModuleOptions.clusterNodes` expects. */
  nodes: string[];
  /** Kills the nodes and removes their config directory. */
  stop(): Promise<void>;
}

async function waitForClusterOk(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  await probe.connect();
  try {
    for (;;) {
      const info = await probe.cluster('INFO');
      if (/cluster_state:ok/.test(String(info))) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster did not reach cluster_state:ok: ${String(info)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    probe.disconnect();
  }
}

/**
 * Starts three `redis-server --cluster-enabled yes` nodes on free loopback ports, joins them with
 * `redis-cli --cluster create` and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(timeoutMs = 15_000): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => stopProcess(child)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      children.push(
        spawn(
          'redis-server',
          [
            '--port', String(port),
            '--bind', '127.0.0.1',
            '--cluster-enabled', 'yes',
            '--cluster-config-file', join(dir, `nodes-${port}.conf`),
            '--save', '',
            '--appendonly', 'no',
            '--daemonize', 'no',
            '--dir', dir,
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    await Promise.all(ports.map((port) => waitForRedis(port)));
    await run('redis-cli', [
      '--cluster', 'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas', '0',
      '--cluster-yes',
    ]);
    await Promise.all(ports.map((port) => waitForClusterOk(port, timeoutMs)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => `127.0.0.1:${port}`), stop };
}
