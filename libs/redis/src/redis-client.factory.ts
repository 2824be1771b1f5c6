import { Cluster, Redis, type RedisOptions } from 'ioredis';

import { redactUrl } from '@nest-hardening/errors';

import type { RedisClient } from './redis-client.type';
import { checkRedisOptions } from './redis-options.check';
import type { RedisModuleOptions } from './redis.module-definition';

/** Strips credentials so a URL can appear in logs and error messages. */
export function redactRedisUrl(url: string): string {
  return redactUrl(url, { hideUser: true }) ?? '(unparseable REDIS_URL)';
}

export function describeRedisTarget(options: RedisModuleOptions): string {
  return options.clusterNodes?.length ? `cluster ${options.clusterNodes.join(',')}` : redactRedisUrl(options.url);
}

/** Only what is set. A single Redis's url keeps its own credentials: ioredis lets the url's win. */
function credentials({ username, password, tls }: RedisModuleOptions): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(tls === undefined || tls === false ? {} : { tls: tls === true ? {} : tls }),
  };
}

/**
 * Connection settings shared by every client. The offline queue is off: while Redis is down a
 * command must fail at once (callers then apply their fail-open or fail-closed policy) rather than
 * wait in a queue and be replayed later, which would double-count rate-limit hits.
 */
function baseOptions(options: RedisModuleOptions): RedisOptions {
  return {
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs,
    // At most the longest delay a Node timer takes: a longer one would fire after 1 ms.
    connectTimeout: Math.min(2 ** 31 - 1, Math.max(1000, options.commandTimeoutMs * 4)),
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    connectionName: options.connectionName,
    ...credentials(options),
    // Reconnect quickly and forever: recovery after an outage must not need a restart.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
  };
}

/**
 * What the first seed of a cluster answers a single connection with the cluster's credentials and
 * TLS: undefined when it works. A cluster client reports only "None of startup nodes is available"
 * (its slot-refresh connection swallows the reason), which leaves the operator guessing between a
 * wrong password, an untrusted certificate and a node that is down.
 */
export async function probeClusterSeed(options: RedisModuleOptions): Promise<Error | undefined> {
  const [seed] = options.clusterNodes ?? [];
  if (!seed) return undefined;
  const [host, port] = seed.split(':');
  const probe = new Redis({ ...baseOptions(options), host, port: Number(port), keyPrefix: undefined, retryStrategy: () => null });
  let reason: Error | undefined;
  probe.on('error', (error: Error) => (reason ??= error));
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    return reason ?? (error as Error);
  } finally {
    probe.disconnect();
  }
}

/** Whether `url` has the `rediss:` scheme as WHATWG URL (and so the settings) reads it: in any case, whatever follows. */
function isTlsUrl(url: string): boolean {
  try {
    return new URL(url).protocol === 'rediss:';
  } catch {
    return false;
  }
}

export function createRedisClient(options: RedisModuleOptions, role = 'main'): RedisClient {
  checkRedisOptions(options);
  const shared = baseOptions(options);
  if (options.clusterNodes?.length) {
    const nodes = options.clusterNodes.map((node) => {
      const [host, p] = node.split(':');
      return { host, port: Number(p) };
    });
    return new Cluster(nodes, {
      keyPrefix: options.keyPrefix,
      enableOfflineQueue: false,
      lazyConnect: true,
      // Replicas lag their master: a revocation check or a budget read from one could see a session
      // or a count that the master has already removed. Every command goes to the slot's master.
      scaleReads: 'master',
      clusterRetryStrategy: shared.retryStrategy,
      // ioredis connects to a seed at the address its name resolves to, and Node then checks the
      // certificate against that address; a certificate names the host (managed clusters over TLS
      // announce host names too), so with TLS a seed is reached by the name it was given.
      ...(shared.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
      redisOptions: { ...shared, keyPrefix: undefined, connectionName: `${options.connectionName ?? 'app'}:${role}` },
    });
  }
  return new Redis(options.url, {
    ...shared,
    // ioredis turns TLS on only for a url starting `rediss://`; the settings accept a `rediss:` url
    // as WHATWG URL reads it (`REDISS://`, `rediss:` without the slashes), which must not fall back
    // to plaintext and send the password in it.
    ...(shared.tls === undefined && isTlsUrl(options.url) ? { tls: {} } : {}),
    connectionName: `${options.connectionName ?? 'app'}:${role}`,
    // ioredis re-subscribes after a reconnect with a SUBSCRIBE nobody awaits: cut off by the
    // connection closing again, it is an unhandled rejection, which ends a Node process. The
    // subscriber's users subscribe again on every 'ready' themselves (see InjectRedisSubscriber).
    ...(role === 'subscriber' ? { autoResubscribe: false } : {}),
  });
}
