import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';

import {
  createTestCertificate,
  freePort,
  redisTlsArgs,
  startRedisCluster,
  startRedisServer,
  startSilentListener,
  type TestCertificate,
  type TestRedisCluster,
  type TestRedisServer,
} from '@nest-hardening/testing';

import { InjectRedis, InjectRedisSubscriber } from './inject-redis.decorator';
import type { RedisClient } from './redis-client.type';
import { RedisModule } from './redis.module';
import type { RedisModuleOptions } from './redis.module-definition';

const PASSWORD = 'S3cret-cluster-password';

class Clients {
  constructor(
    @InjectRedis() readonly main: RedisClient,
    @InjectRedisSubscriber() readonly subscriber: RedisClient,
  ) {}
}

/** Starts a RedisModule as an app does (both clients connected in onModuleInit) and returns its clients. */
async function startModule(options: RedisModuleOptions) {
  const moduleRef = await Test.createTestingModule({ imports: [RedisModule.forRoot(options)], providers: [Clients] }).compile();
  await moduleRef.init();
  return { clients: moduleRef.get(Clients), close: () => moduleRef.close() };
}

/** The start-up error of a module that cannot use Redis, and how long it took to come. */
async function startupFailure(options: RedisModuleOptions): Promise<{ message: string; ms: number }> {
  const started = Date.now();
  const running = await startModule(options).catch((error: unknown) => error as Error);
  if (!(running instanceof Error)) {
    await running.close();
    throw new Error('the module started');
  }
  return { message: running.message, ms: Date.now() - started };
}

/** Options for a single Redis under `keyPrefix`: a url, and what a test adds to it. */
function singleRedisOptions(keyPrefix: string) {
  return (url: string, extra: Partial<RedisModuleOptions> = {}): RedisModuleOptions => ({
    url,
    keyPrefix,
    commandTimeoutMs: 2000,
    ...extra,
  });
}

/**
 * A managed Redis Cluster requires a password and TLS: every node, every client (commands, Lua
 * scripts, sharded pub/sub) must be reached with both, and a wrong one must stop the start with a
 * clear message instead of hanging or leaking the password.
 */
describe('RedisModule on a Redis Cluster with a password and TLS', () => {
  let cluster: TestRedisCluster;
  const base = { url: '', keyPrefix: 'secured-test:', commandTimeoutMs: 2000 };
  const secured = () => ({ ...base, clusterNodes: cluster.nodes, password: PASSWORD, tls: { ca: cluster.connection.tls!.ca } });

  beforeAll(async () => {
    cluster = await startRedisCluster({ password: PASSWORD, tls: true });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('reaches every master with the password over TLS: commands, scripts and pub/sub', async () => {
    const { clients, close } = await startModule(secured());
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `{k${i}}:v`);
      // Thirty hash tags spread over the three masters' slots.
      await Promise.all(keys.map((key, i) => clients.main.set(key, String(i))));
      expect(await Promise.all(keys.map((key) => clients.main.get(key)))).toEqual(keys.map((_, i) => String(i)));
      expect(await clients.main.eval("return redis.call('GET', KEYS[1])", 1, keys[7])).toBe('7');

      const received = new Promise<string>((resolve) =>
        clients.subscriber.on('message', (_channel: string, message: string) => resolve(message)),
      );
      await clients.subscriber.subscribe(`${base.keyPrefix}chan`);
      await clients.main.publish(`${base.keyPrefix}chan`, 'hello');
      await expect(received).resolves.toBe('hello');
    } finally {
      await close();
    }
  });

  // With TLS a seed is reached by the name it is given (dnsLookup): by name, the first connection
  // checks the certificate against the name, and those after CLUSTER SLOTS against the addresses.
  it('starts with seeds given by host name when the nodes announce addresses and the certificate names both', async () => {
    const { clients, close } = await startModule({
      ...secured(),
      clusterNodes: cluster.nodes.map((node) => node.replace('127.0.0.1:', 'localhost:')),
    });
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `{k${i}}:v`);
      await Promise.all(keys.map((key, i) => clients.main.set(key, String(i))));
      expect(await Promise.all(keys.map((key) => clients.main.get(key)))).toEqual(keys.map((_, i) => String(i)));
    } finally {
      await close();
    }
  });

  it('refuses to start with a wrong password, promptly, naming the cause and never the password', async () => {
    const { message, ms } = await startupFailure({ ...secured(), password: 'not-the-password' });
    expect(message).toMatch(/WRONGPASS|NOAUTH|invalid username-password/i);
    expect(message).not.toContain('not-the-password');
    expect(ms).toBeLessThan(10_000);
  });

  it('refuses to start without the password', async () => {
    const { message } = await startupFailure({ ...secured(), password: undefined });
    expect(message).toMatch(/NOAUTH|Authentication required/i);
  });

  it('refuses a server whose certificate is not signed by a trusted CA, saying so', async () => {
    const { message } = await startupFailure({ ...secured(), tls: true });
    expect(message).toMatch(/certificate/i);
  });

  // A seed that accepts connections and never answers (a frozen host, a port behind a load balancer
  // with no backend): the start fails within about a second and leaves no connection behind.
  it.each([
    ['with TLS', { tls: true as const }],
    ['without TLS', { tls: undefined }],
  ])('refuses promptly a seed that accepts connections and never answers, %s, leaving none open', async (_name, tls) => {
    const listener = await startSilentListener();
    try {
      const { ms, message } = await startupFailure({
        ...secured(),
        ...tls,
        commandTimeoutMs: 500,
        clusterNodes: [`127.0.0.1:${listener.port}`],
      });
      expect(message).toMatch(/^Redis is not reachable at cluster 127\.0\.0\.1:/);
      expect(ms).toBeLessThan(5000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(listener.openConnections()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it('refuses to start without TLS on a cluster that speaks only TLS, naming the seeds', async () => {
    const { ms, message } = await startupFailure({ ...secured(), tls: undefined });
    expect(message).toContain(`cluster ${cluster.nodes.join(',')}`);
    expect(ms).toBeLessThan(15_000);
  });
});

/**
 * A managed cluster over TLS (ElastiCache, for one) has certificates that name its nodes' host
 * names, not their addresses, and announces those names in `CLUSTER SLOTS`: the seeds must be
 * reached by name too, not at the address the name resolves to.
 */
describe('RedisModule on a Redis Cluster whose certificates name host names only', () => {
  let cluster: TestRedisCluster;

  beforeAll(async () => {
    // A replica each, so that a master can fail over (failure detected after 1 s of silence).
    cluster = await startRedisCluster({ password: PASSWORD, tls: true, hostnames: true, replicas: 1, nodeTimeoutMs: 1000 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /** The module's options with this cluster's seeds, which name hosts, not addresses. */
  const byHostName = (): RedisModuleOptions => ({
    url: '',
    keyPrefix: 'secured-hostnames:',
    commandTimeoutMs: 2000,
    clusterNodes: cluster.nodes,
    password: PASSWORD,
    tls: { ca: cluster.connection.tls!.ca },
  });

  it('starts with seeds given by host name, and reaches every master', async () => {
    expect(cluster.nodes[0]).toMatch(/^localhost:\d+$/);
    const { clients, close } = await startModule(byHostName());
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `{k${i}}:v`);
      await Promise.all(keys.map((key, i) => clients.main.set(key, String(i))));
      expect(await Promise.all(keys.map((key) => clients.main.get(key)))).toEqual(keys.map((_, i) => String(i)));
    } finally {
      await close();
    }
  });

  // The promoted replica is announced by name as well (CLUSTER SLOTS and MOVED): the client must
  // reach it over TLS by that name. Run last: the killed master is not restarted.
  it('keeps working after a master fails over to its replica', async () => {
    const { clients, close } = await startModule(byHostName());
    try {
      await clients.main.set('{failover}:v', 'before');
      await cluster.kill(await cluster.masterOf('secured-hostnames:{failover}:v'));
      await cluster.waitForOk(30_000);
      // The client learns the new master on its first MOVED or refused connection, then retries. (The
      // value written before may be lost: replication is asynchronous, a master killed at once.)
      const deadline = Date.now() + 10_000;
      for (;;) {
        const failure = await clients.main.set('{failover}:v', 'after').then(
          () => undefined,
          (error: unknown) => error ?? new Error('the write failed'),
        );
        if (failure === undefined) break;
        if (Date.now() > deadline) throw failure instanceof Error ? failure : new Error('the write kept failing after the failover');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await clients.main.get('{failover}:v')).toBe('after');
    } finally {
      await close();
    }
  }, 60_000);
});

describe('RedisModule on a single Redis over TLS', () => {
  let certificate: TestCertificate;
  let server: TestRedisServer;
  let tlsPort: number;

  beforeAll(async () => {
    certificate = await createTestCertificate();
    tlsPort = await freePort();
    // The plain port serves the helper's readiness probe; the app is given the TLS port only.
    server = await startRedisServer(['--tls-port', String(tlsPort), ...redisTlsArgs(certificate)]);
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    await certificate?.remove();
  });

  const options = singleRedisOptions('secured-single:');

  it('connects over rediss:// trusting the given CA', async () => {
    const { clients, close } = await startModule(options(`rediss://127.0.0.1:${tlsPort}`, { tls: { ca: certificate.ca } }));
    try {
      await clients.main.set('k', 'v');
      expect(await clients.main.get('k')).toBe('v');
    } finally {
      await close();
    }
  });

  // ioredis turns TLS on only for a url spelt `rediss://` in lower case; the settings accept any
  // spelling of the scheme, so `REDISS://` must not send the password in plaintext.
  it('speaks only TLS to a rediss:// url however its scheme is spelt', async () => {
    // The plain port: a TLS client gets no handshake there, and gives up after its connect timeout (1 s).
    const { message } = await startupFailure(options(`REDISS://:S3cret-single@127.0.0.1:${server.port}`, { commandTimeoutMs: 250 }));
    expect(message).toMatch(/^Redis is not reachable/);
    expect(message).not.toContain('S3cret-single');
  });

  // The settings check a url's scheme as WHATWG URL reads it, so `rediss:` followed by something
  // other than `//` (a typo, backslashes) passes as TLS; ioredis, which reads the rest its own way,
  // turned TLS on only for a url starting `rediss://` and sent `AUTH rediss <password>` in plaintext.
  // WHATWG URL sees no password in such a url either, so the start-up message printed it.
  it.each(['rediss:app:S3cret-typo@127.0.0.1:PORT', 'REDISS:app:S3cret-typo@127.0.0.1:PORT', 'rediss:\\\\app:S3cret-typo@127.0.0.1:PORT'])(
    'never sends nor prints the password of a url the settings read as rediss: (%s)',
    async (url) => {
      const listener = await startSilentListener();
      try {
        const { message } = await startupFailure(options(url.replace('PORT', String(listener.port)), { commandTimeoutMs: 250 }));
        expect(message).toMatch(/^Redis is not reachable/);
        expect(message).not.toContain('S3cret-typo');
        expect(listener.received().toString('latin1')).not.toContain('S3cret-typo');
      } finally {
        await listener.close();
      }
    },
  );

  it("refuses a certificate Node's CAs do not trust, saying so", async () => {
    const { message } = await startupFailure(options(`rediss://127.0.0.1:${tlsPort}`));
    expect(message).toMatch(/certificate/i);
  });
});

describe('RedisModule on a single Redis with a password', () => {
  let server: TestRedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
    const admin = new Redis(server.port, '127.0.0.1');
    await admin.config('SET', 'requirepass', PASSWORD);
    admin.disconnect();
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  const options = singleRedisOptions('secured-password:');

  it('takes `password` beside a url that carries none (the url from settings, the password from a secret store)', async () => {
    const { clients, close } = await startModule(options(`redis://127.0.0.1:${server.port}`, { password: PASSWORD }));
    try {
      expect(await clients.main.ping()).toBe('PONG');
    } finally {
      await close();
    }
  });

  it("keeps the url's own password when both are given, as the option documents", async () => {
    const { clients, close } = await startModule(
      options(`redis://:${PASSWORD}@127.0.0.1:${server.port}`, { password: 'not-the-password' }),
    );
    try {
      expect(await clients.main.ping()).toBe('PONG');
    } finally {
      await close();
    }
  });
});
