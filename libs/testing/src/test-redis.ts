import { randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';

import { Redis } from 'ioredis';

import { createRedisClient, type RedisClient } from '@nest-hardening/redis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix unique to one test file's run, so parallel runs and a running app never collide. */
export function uniqueKeyPrefix(label = 't'): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS) on the Redis at `url`. */
export async function deleteKeysWithPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await raw.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await raw.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    raw.disconnect();
  }
}

/**
 * The same on every node of a Redis Cluster (`host:port` seeds of all its masters). Keys go one per
 * UNLINK: a multi-key command must stay in one slot. `connection` adds the cluster's password and TLS.
 */
export async function deleteClusterKeysWithPrefix(
  prefix: string,
  nodes: string[],
  { username, password, tls }: { username?: string; password?: string; tls?: boolean | ConnectionOptions } = {},
): Promise<void> {
  const connection = { username, password, ...(tls ? { tls: tls === true ? {} : tls } : {}) };
  await Promise.all(
    nodes.map(async (node) => {
      const [host, port] = node.split(':');
      // No reconnecting: a node a test killed must not keep the process alive with retries.
      const raw = new Redis(Number(port), host, { ...connection, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      try {
        await raw.connect().catch(() => undefined);
        // A node that is down or a replica holds nothing to delete: its master's deletions reach it.
        if (raw.status !== 'ready' || ((await raw.role()) as [string])[0] !== 'master') return;
        let cursor = '0';
        do {
          const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await Promise.all(keys.map((key) => raw.unlink(key)));
        } while (cursor !== '0');
      } finally {
        raw.disconnect();
      }
    }),
  );
}

export interface TestRedis {
  client: RedisClient;
  prefix: string;
  url: string;
  /** Closes the client and deletes every key the test wrote. */
  cleanup(): Promise<void>;
}

/** A connected client on the shared test Redis with a fresh key prefix. */
export async function createTestRedis(label?: string, url = TEST_REDIS_URL): Promise<TestRedis> {
  const prefix = uniqueKeyPrefix(label);
  const client = createRedisClient({ url, keyPrefix: prefix, commandTimeoutMs: 2000, connectionName: 'test' });
  await client.connect();
  return {
    client,
    prefix,
    url,
    async cleanup() {
      client.disconnect();
      await deleteKeysWithPrefix(prefix, url);
    },
  };
}
