import { freePort, startRedisCluster, startSilentListener } from '@nest-hardening/testing';

/**
 * `npm start` checks Redis and Postgres first and prints one line naming the URL it tried. pg and
 * ioredis both read a password from a `?password=` query parameter, so the line must hide it there
 * too, as the apps' own messages do (`redactUrl` of @nest-hardening/errors).
 */
describe('scripts/preflight.js', () => {
  const saved = {
    REDIS_URL: process.env.REDIS_URL,
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES,
    REDIS_TLS_CA_FILE: process.env.REDIS_TLS_CA_FILE,
  };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** The error of checkDependencies() under `env` (the script reads the environment when loaded). */
  async function failure(env: Record<string, string>): Promise<string> {
    delete process.env.REDIS_CLUSTER_NODES;
    Object.assign(process.env, env);
    let preflight!: { checkDependencies(): Promise<void> };
    jest.isolateModules(() => {
      // A plain CommonJS script, loaded afresh so that it reads this environment.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      preflight = require('../../scripts/preflight') as typeof preflight;
    });
    try {
      await preflight.checkDependencies();
    } catch (error) {
      return (error as Error).message;
    }
    return '(no failure)';
  }

  it('does not print a Redis password given as ?password=', async () => {
    const port = await freePort();
    const message = await failure({ REDIS_URL: `redis://127.0.0.1:${port}/0?password=redis-pw-in-query` });
    expect(message).toMatch(/^Redis is not reachable at /);
    expect(message).not.toContain('redis-pw-in-query');
  });

  it('speaks only TLS to a rediss:// REDIS_URL however its scheme is spelt, as the apps do', async () => {
    // The shared test Redis speaks plaintext only: a TLS client cannot pass there.
    const { port } = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const message = await failure({ REDIS_URL: `REDISS://127.0.0.1:${port || 6379}` });
    expect(message).toMatch(/^Redis is not reachable at /);
  });

  // A Redis that accepts connections and never answers (a paused server, a port behind a proxy
  // whose backend is gone): npm start must say so, not wait for ever before starting nothing.
  it('gives up on a Redis that accepts connections and never answers', async () => {
    const listener = await startSilentListener();
    try {
      const started = Date.now();
      const message = await failure({ REDIS_URL: `redis://:pw@127.0.0.1:${listener.port}` });
      expect(message).toMatch(/^Redis is not reachable at /);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await listener.close();
    }
  }, 20_000);

  // The apps accept `rediss:` without the slashes (WHATWG URL reads the scheme so); ioredis alone
  // reads it as a plaintext url with the user `rediss` and sends the password in the clear, and
  // WHATWG URL, seeing no password there, left it in the message.
  it('never sends nor prints the password of a REDIS_URL the apps read as rediss:', async () => {
    const listener = await startSilentListener();
    try {
      const message = await failure({ REDIS_URL: `rediss:app:preflight-typo@127.0.0.1:${listener.port}` });
      expect(message).toMatch(/^Redis is not reachable at /);
      expect(message).not.toContain('preflight-typo');
      expect(listener.received().toString('latin1')).not.toContain('preflight-typo');
    } finally {
      await listener.close();
    }
  }, 20_000);

  it('does not print the password of rediss:// cluster seeds', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const message = await failure({ REDIS_CLUSTER_NODES: `rediss://app:cluster-pw@127.0.0.1:${a},rediss://app:cluster-pw@127.0.0.1:${b}` });
    expect(message).toMatch(new RegExp(`^Redis Cluster is not usable at 127\\.0\\.0\\.1:${a},127\\.0\\.0\\.1:${b} `));
    expect(message).not.toContain('cluster-pw');
  });

  it('passes on a cluster reached with a password over TLS, as the apps reach it', async () => {
    const cluster = await startRedisCluster({ password: 'preflight-pw', tls: true });
    try {
      expect(await failure(cluster.env)).toBe('(no failure)');
    } finally {
      await cluster.stop();
    }
  }, 30_000);

  it('passes on a cluster over TLS whose certificates name host names only, seeded by name', async () => {
    const cluster = await startRedisCluster({ password: 'preflight-pw', tls: true, hostnames: true });
    try {
      expect(await failure(cluster.env)).toBe('(no failure)');
    } finally {
      await cluster.stop();
    }
  }, 30_000);

  it('does not print a Postgres password given as ?password=', async () => {
    const port = await freePort();
    const message = await failure({
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/auth?password=pg-pw-in-query`,
    });
    expect(message).toMatch(/^Postgres is not reachable at /);
    expect(message).not.toContain('pg-pw-in-query');
  });
});
