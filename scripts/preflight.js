'use strict';
// One clear line when a backing service is missing, instead of three apps failing at once.
const fs = require('node:fs');

const Redis = require('ioredis');
const { Client } = require('pg');

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/auth';

// As redactUrl (@nest-hardening/errors) does for the apps' messages: the password, in the user part or
// in a query parameter (pg and ioredis both read `?password=`), never appears; nor, with hideUser, the user.
function redact(url, { hideUser = false } = {}) {
  try {
    const u = new URL(url);
    // Without `//` (`rediss:user:password@host`) WHATWG URL sees no password, but ioredis reads one.
    if (!u.host && url.includes('@')) return '(unparseable URL)';
    if (u.password) u.password = '***';
    if (hideUser && u.username) u.username = '***';
    for (const key of [...u.searchParams.keys()]) if (/pass/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

// REDIS_CLUSTER_NODES as the apps read it (@nest-hardening/config): host:port seeds, or redis:// and
// rediss:// URLs carrying the user, the password and TLS. The apps refuse malformed values by name.
function clusterSeeds(value) {
  const seeds = value
    .split(',')
    .map((seed) => seed.trim())
    .filter(Boolean)
    .map((seed) => new URL(seed.includes('://') ? seed : `redis://${seed}`));
  const [first] = seeds;
  return {
    nodes: seeds.map((url) => ({ host: url.hostname, port: Number(url.port) })),
    username: decodeURIComponent(first.username) || undefined,
    password: decodeURIComponent(first.password) || undefined,
    tls: first.protocol === 'rediss:',
  };
}

function tlsOptions(useTls) {
  const caFile = process.env.REDIS_TLS_CA_FILE;
  if (caFile) return { tls: { ca: fs.readFileSync(caFile, 'utf8') } };
  return useTls ? { tls: {} } : {};
}

function isTlsUrl(url) {
  try {
    return new URL(url).protocol === 'rediss:';
  } catch {
    return false;
  }
}

async function checkRedisCluster(value) {
  const { nodes, username, password, tls } = clusterSeeds(value);
  // Named by host:port only: a seed may carry the password.
  const seeds = nodes.map(({ host, port }) => `${host}:${port}`).join(',');
  const redisTls = tlsOptions(tls);
  const client = new Redis.Cluster(nodes, {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    // As the apps do (@nest-hardening/redis): with TLS a seed is reached by its name, which its certificate names.
    ...(redisTls.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 0, username, password, ...redisTls },
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = String(await client.cluster('INFO'));
    if (!/cluster_state:ok/.test(info)) throw new Error('cluster_state is not ok');
  } catch (error) {
    throw new Error(`Redis Cluster is not usable at ${seeds} (${error.message}). Check REDIS_CLUSTER_NODES and that every slot is served.`);
  } finally {
    client.disconnect();
  }
}

async function checkRedis() {
  if (process.env.REDIS_CLUSTER_NODES) return checkRedisCluster(process.env.REDIS_CLUSTER_NODES);
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
    // A Redis that accepts the connection and never answers must fail the check, not hang it.
    commandTimeout: 2000,
    // ioredis turns TLS on only for a url starting `rediss://`; the apps take any url whose scheme
    // WHATWG URL reads as `rediss:` (`REDISS://`, `rediss:` without slashes) for TLS, and so does this.
    ...tlsOptions(isTlsUrl(REDIS_URL)),
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${redact(REDIS_URL, { hideUser: true })} (${error.message}). Start it with: docker compose up -d redis postgres`,
    );
  } finally {
    client.disconnect();
  }
}

async function checkPostgres() {
  // The target database may not exist yet (it is created by the migration step): connect to `postgres`.
  const url = new URL(DATABASE_URL);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Postgres is not reachable at ${redact(DATABASE_URL)} (${error.message}). Start it with: docker compose up -d redis postgres`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkDependencies() {
  await checkRedis();
  await checkPostgres();
}

module.exports = { checkDependencies };
