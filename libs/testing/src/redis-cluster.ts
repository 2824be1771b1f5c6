import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Redis, type RedisOptions } from 'ioredis';

import { freePort } from './free-port';
import { probeClient, stopProcess, waitForRedis } from './redis-server';
import { createTestCertificate, redisTlsArgs, type TestCertificate } from './test-certificate';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Replicas per master (default 0: three masters only). With 1, a killed master is failed over. */
  replicas?: 0 | 1;
  /**
   * `cluster-node-timeout` in ms (default Redis's 15 s): how long a node may be unreachable before
   * it is marked failed and its replica takes over. Failover tests use 1-2 s.
   */
  nodeTimeoutMs?: number;
  /** How long start-up may take before it fails (default 15 s). */
  timeoutMs?: number;
  /** Every node requires this password (`requirepass`; replicas authenticate to their master with it). */
  password?: string;
  /**
   * Every node speaks TLS only, clients and cluster bus alike, with a self-signed certificate for
   * 127.0.0.1 that {@link TestRedisCluster.connection} and {@link TestRedisCluster.env} trust.
   */
  tls?: boolean;
  /**
   * Every node announces itself as `localhost` (`CLUSTER SLOTS` answers host names, as managed
   * clusters with TLS do), `nodes` name it so, and with `tls` the certificate names `localhost` only.
   */
  hostnames?: boolean;
}

/** What a client passes besides the nodes: the cluster's password and the CA of its certificate. */
export interface TestRedisClusterConnection {
  password?: string;
  tls?: { ca: string };
}

/** A real Redis Cluster of three masters, with or without one replica each, owned by one test. */
export interface TestRedisCluster {
  /**
   * `127.0.0.1:port` of every node (masters first, then replicas), as `RedisModuleOptions.clusterNodes`
   * expects. Without replicas these are exactly the masters.
   */
  nodes: string[];
  /** The password and TLS a client needs (empty for a cluster started without them). */
  connection: TestRedisClusterConnection;
  /**
   * The settings an app reaches this cluster with: `REDIS_CLUSTER_NODES` (as `rediss://:password@…`
   * URLs when the cluster has a password or TLS) and, with TLS, `REDIS_TLS_CA_FILE`.
   */
  env: { REDIS_CLUSTER_NODES: string; REDIS_TLS_CA_FILE?: string };
  /** The nodes that serve slots now, as `127.0.0.1:port` (changes after a failover). */
  masters(): Promise<string[]>;
  /** The master that serves the slot of `key` now (`CLUSTER KEYSLOT` of the full key, prefix included). */
  masterOf(key: string): Promise<string>;
  /** Kills one node with SIGKILL, like a crash; it is not restarted. */
  kill(node: string): Promise<void>;
  /**
   * Starts moving the slot of `key` to another master, as `redis-cli --cluster reshard` does
   * (SETSLOT IMPORTING / MIGRATING), and moves only `moveFirst` of its keys (full names). `finish`
   * moves the rest and hands the slot over. Keys are given with their prefix.
   */
  startSlotMove(key: string, moveFirst: readonly string[]): Promise<{ finish: () => Promise<void> }>;
  /**
   * Resolves once every live node reports `cluster_state:ok` and sees every slot served by a live
   * master: after `kill(master)`, that is once a replica has been promoted in its place.
   */
  waitForOk(timeoutMs?: number): Promise<void>;
  /** Kills the nodes and removes their config directory. */
  stop(): Promise<void>;
}

const address = (port: number) => `127.0.0.1:${port}`;
const portOf = (node: string) => Number(node.split(':')[1]);

async function withNode<T>(port: number, connection: RedisOptions, use: (probe: Redis) => Promise<T>): Promise<T> {
  const probe = probeClient(port, connection);
  try {
    await probe.connect();
    return await use(probe);
  } finally {
    probe.disconnect();
  }
}

/**
 * `127.0.0.1:port` of the master of each slot range, as this node sees it (from `CLUSTER SLOTS`,
 * which names a node `localhost` when it announces a host name; every node is on loopback).
 */
async function slotOwners(probe: Redis): Promise<{ from: number; to: number; master: string }[]> {
  const slots = await probe.cluster('SLOTS');
  return slots.map(([from, to, [, port]]) => ({ from, to, master: address(port) }));
}

async function coversAllSlots(probe: Redis, live: ReadonlySet<string>): Promise<string | undefined> {
  const info = String(await probe.cluster('INFO'));
  if (!/cluster_state:ok/.test(info)) return info;
  const owners = await slotOwners(probe);
  const covered = owners.filter((o) => live.has(o.master)).reduce((n, o) => n + o.to - o.from + 1, 0);
  return covered === 16384 ? undefined : `slots served by live masters: ${covered} of 16384`;
}

/** Every replica has finished its first sync, so a failover has data to promote. */
async function replicasInSync(port: number, connection: RedisOptions): Promise<boolean> {
  return withNode(port, connection, async (probe) => {
    const info = String(await probe.info('replication'));
    return !/role:slave/.test(info) || /master_link_status:up/.test(info);
  });
}

/**
 * Starts `redis-server --cluster-enabled yes` nodes on free loopback ports (three masters, plus one
 * replica each with `replicas: 1`), joins them with `redis-cli --cluster create` and waits until
 * every node reports `cluster_state:ok` and every replica is in sync. The cluster bus ports are
 * picked as free ports too (`cluster-port`), not client port + 10000, which may be out of range.
 *
 * @example
 * const cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: 1000 });
 * await cluster.kill(await cluster.masterOf('{u:42}:s:1'));
 * await cluster.waitForOk();
 * await cluster.stop();
 */
export async function startRedisCluster(options: RedisClusterOptions | number = {}): Promise<TestRedisCluster> {
  const {
    replicas = 0,
    nodeTimeoutMs,
    timeoutMs = 15_000,
    password,
    tls,
    hostnames,
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  let certificate: TestCertificate | undefined;
  try {
    certificate = tls ? await createTestCertificate(hostnames ? ['DNS:localhost'] : undefined) : undefined;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const connection: TestRedisClusterConnection = {
    ...(password === undefined ? {} : { password }),
    ...(certificate ? { tls: { ca: certificate.ca } } : {}),
  };
  // The helper's own probes reach each node at 127.0.0.1 and check its certificate against `localhost`.
  const probeConnection: RedisOptions = {
    ...connection,
    ...(connection.tls ? { tls: { ...connection.tls, servername: 'localhost' } } : {}),
  };
  const count = 3 * (1 + replicas);
  const ports: number[] = [];
  const busPorts: number[] = [];
  const taken = new Set<number>();
  while (ports.length + busPorts.length < 2 * count) {
    const port = await freePort();
    if (taken.has(port)) continue;
    taken.add(port);
    (ports.length < count ? ports : busPorts).push(port);
  }
  const children = new Map<number, ChildProcess>();
  const stop = async () => {
    await Promise.all([...children.values()].map((child) => stopProcess(child)));
    await rm(dir, { recursive: true, force: true });
    await certificate?.remove();
  };
  const liveNodes = () =>
    new Set([...children].filter(([, c]) => c.exitCode === null && c.signalCode === null).map(([port]) => address(port)));
  const anyLivePort = () => {
    const [first] = liveNodes();
    if (!first) throw new Error('no live node left in the cluster');
    return portOf(first);
  };

  const waitForOk = async (waitMs = timeoutMs) => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const live = liveNodes();
      const problems = await Promise.all(
        [...live].map((node) =>
          withNode(portOf(node), probeConnection, (probe) => coversAllSlots(probe, live)).catch((error: unknown) => String(error)),
        ),
      );
      const problem = problems.find((p) => p !== undefined);
      if (problem === undefined) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster did not recover within ${waitMs} ms: ${problem}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  try {
    ports.forEach((port, i) => {
      children.set(
        port,
        spawn(
          'redis-server',
          [
            ...(certificate
              ? [
                  '--port',
                  '0',
                  '--tls-port',
                  String(port),
                  '--tls-cluster',
                  'yes',
                  '--tls-replication',
                  'yes',
                  ...redisTlsArgs(certificate),
                ]
              : ['--port', String(port)]),
            ...(password === undefined ? [] : ['--requirepass', password, '--masterauth', password]),
            ...(hostnames ? ['--cluster-announce-hostname', 'localhost', '--cluster-preferred-endpoint-type', 'hostname'] : []),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPorts[i]),
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            ...(nodeTimeoutMs === undefined ? [] : ['--cluster-node-timeout', String(nodeTimeoutMs)]),
            '--save',
            '',
            '--appendonly',
            'no',
            '--daemonize',
            'no',
            '--dir',
            dir,
          ],
          { stdio: 'ignore' },
        ),
      );
    });
    await Promise.all(ports.map((port) => waitForRedis(port, 5000, probeConnection)));
    await run('redis-cli', [
      ...(certificate ? ['--tls', '--cacert', certificate.certFile] : []),
      ...(password === undefined ? [] : ['-a', password, '--no-auth-warning']),
      '--cluster',
      'create',
      ...ports.map(address),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await waitForOk();
    const deadline = Date.now() + timeoutMs;
    while (!(await Promise.all(ports.map((port) => replicasInSync(port, probeConnection)))).every(Boolean)) {
      if (Date.now() > deadline) throw new Error('Redis Cluster replicas did not finish their first sync');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const masters = () =>
    withNode(anyLivePort(), probeConnection, async (probe) => [...new Set((await slotOwners(probe)).map((o) => o.master))]);
  const masterOf = (key: string) =>
    withNode(anyLivePort(), probeConnection, async (probe) => {
      const slot = Number(await probe.cluster('KEYSLOT', key));
      const owner = (await slotOwners(probe)).find((o) => slot >= o.from && slot <= o.to);
      if (!owner) throw new Error(`no master serves slot ${slot}`);
      return owner.master;
    });

  async function startSlotMove(key: string, moveFirst: readonly string[]): Promise<{ finish: () => Promise<void> }> {
    const source = await masterOf(key);
    const target = (await masters()).find((node) => node !== source);
    if (!target) throw new Error('a slot move needs a second master');
    const [host, port] = target.split(':');
    const migrate = (keys: readonly string[]) =>
      withNode(portOf(source), probeConnection, (probe) =>
        probe.call('MIGRATE', host, port, '', '0', '5000', ...(password === undefined ? [] : ['AUTH', password]), 'KEYS', ...keys),
      );
    const slot = await withNode(portOf(source), probeConnection, async (probe) => Number(await probe.cluster('KEYSLOT', key)));
    const sourceId = await withNode(portOf(source), probeConnection, async (probe) => String(await probe.cluster('MYID')));
    const targetId = await withNode(portOf(target), probeConnection, async (probe) => String(await probe.cluster('MYID')));
    await withNode(portOf(target), probeConnection, (probe) => probe.cluster('SETSLOT', slot, 'IMPORTING', sourceId));
    await withNode(portOf(source), probeConnection, (probe) => probe.cluster('SETSLOT', slot, 'MIGRATING', targetId));
    if (moveFirst.length > 0) await migrate(moveFirst);
    return {
      finish: async () => {
        for (;;) {
          const keys = await withNode(portOf(source), probeConnection, (probe) => probe.cluster('GETKEYSINSLOT', slot, 100));
          if (keys.length === 0) break;
          await migrate(keys);
        }
        for (const node of await masters())
          await withNode(portOf(node), probeConnection, (probe) => probe.cluster('SETSLOT', slot, 'NODE', targetId));
      },
    };
  }
  // Listed masters first, so seeds and clean-up reach the nodes that hold keys.
  const initialMasters = await masters();
  const nodes = [...initialMasters, ...ports.map(address).filter((node) => !initialMasters.includes(node))].map((node) =>
    hostnames ? node.replace('127.0.0.1:', 'localhost:') : node,
  );

  const secured = password !== undefined || certificate !== undefined;
  const credentials = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  const scheme = certificate ? 'rediss' : 'redis';
  return {
    nodes,
    connection,
    env: {
      REDIS_CLUSTER_NODES: (secured ? nodes.map((node) => `${scheme}://${credentials}${node}`) : nodes).join(','),
      ...(certificate ? { REDIS_TLS_CA_FILE: certificate.certFile } : {}),
    },
    masters,
    masterOf,
    async kill(node) {
      const child = children.get(portOf(node));
      if (!child) throw new Error(`${node} is not a node of this cluster`);
      await stopProcess(child);
    },
    startSlotMove,
    waitForOk,
    stop,
  };
}
