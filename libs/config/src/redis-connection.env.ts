import { readFileSync } from 'node:fs';

import { z } from 'zod';

/** The seeds of a Redis Cluster, and what every node of it is reached with. */
export interface RedisClusterSeeds {
  /** `host:port` of each seed. */
  nodes: string[];
  username?: string;
  password?: string;
  /** The seeds were `rediss://` URLs. */
  tls: boolean;
}

const HOST_PORT = /^[^:\s/@]+:\d{1,5}$/;

interface Seed {
  node: string;
  scheme: string;
  username: string;
  password: string;
}

/** One seed, or a reason that names its position only: a seed may carry the password. */
function parseSeed(entry: string, position: number): Seed | string {
  const invalid = `seed ${position} must be host:port, or a redis:// or rediss:// URL with a host and a port and nothing after them`;
  if (!entry.includes('://')) return HOST_PORT.test(entry) ? { node: entry, scheme: 'redis:', username: '', password: '' } : invalid;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return invalid;
  }
  // A path (a database number) or a query would be ignored by a cluster client, so it is refused rather than dropped.
  const bare = (url.pathname === '' || url.pathname === '/') && url.search === '' && url.hash === '';
  if (!['redis:', 'rediss:'].includes(url.protocol) || !bare || !url.port || url.hostname.includes(':') || url.hostname.startsWith('[')) {
    return invalid;
  }
  try {
    return {
      node: `${url.hostname}:${url.port}`,
      scheme: url.protocol,
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
  } catch {
    return `seed ${position} has a user or password that is not valid percent-encoding`;
  }
}

/**
 * `REDIS_CLUSTER_NODES`: `host:port` seeds, or `redis://` / `rediss://` URLs that carry the ACL user, the
 * password and TLS every node of the cluster is then reached with. A cluster client takes one set of
 * those for all nodes, so every seed must carry the same; no message repeats a seed.
 */
export const redisClusterSeeds = () =>
  z
    .string()
    .optional()
    .transform((value, ctx): RedisClusterSeeds | undefined => {
      const entries = (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (entries.length === 0) return undefined;
      const seeds: Seed[] = [];
      for (const [i, entry] of entries.entries()) {
        const seed = parseSeed(entry, i + 1);
        if (typeof seed === 'string') {
          ctx.addIssue({ code: 'custom', message: seed });
          return z.NEVER;
        }
        seeds.push(seed);
      }
      const [first] = seeds;
      if (seeds.some((s) => s.scheme !== first.scheme || s.username !== first.username || s.password !== first.password)) {
        ctx.addIssue({ code: 'custom', message: 'every seed must have the same scheme, user and password (one set reaches every node)' });
        return z.NEVER;
      }
      return {
        nodes: seeds.map((s) => s.node),
        ...(first.username ? { username: first.username } : {}),
        ...(first.password ? { password: first.password } : {}),
        tls: first.scheme === 'rediss:',
      };
    });

/** A PEM file of CA certificates, read at start-up; a file that cannot be read or holds no certificate is refused. */
export const pemCaFile = () =>
  z
    .string()
    .optional()
    .transform((path, ctx): string | undefined => {
      if (path === undefined) return undefined;
      let pem: string;
      try {
        pem = readFileSync(path, 'utf8');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
        return z.NEVER;
      }
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
        ctx.addIssue({ code: 'custom', message: `${path} holds no PEM certificate` });
        return z.NEVER;
      }
      return pem;
    });

/** The connection part of `RedisModuleOptions`, as every app derives it from its settings. */
export interface RedisConnectionSettings {
  url: string;
  clusterNodes?: string[];
  username?: string;
  password?: string;
  tls?: true | { ca: string };
}

export function redisConnection(env: {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: RedisClusterSeeds;
  REDIS_TLS_CA_FILE?: string;
}): RedisConnectionSettings {
  const cluster = env.REDIS_CLUSTER_NODES;
  // A CA file turns TLS on, as `rediss://` does: trusting a private CA only makes sense over TLS.
  const tls = env.REDIS_TLS_CA_FILE ? { ca: env.REDIS_TLS_CA_FILE } : cluster?.tls ? true : undefined;
  return {
    url: env.REDIS_URL,
    ...(cluster ? { clusterNodes: cluster.nodes, username: cluster.username, password: cluster.password } : {}),
    ...(tls ? { tls } : {}),
  };
}
