import { Test, type TestingModule } from '@nestjs/testing';
import { Registry } from 'prom-client';

import { RedisModule } from '@nest-hardening/redis';
import { SessionRevocationModule } from '@nest-hardening/sessions';
import { deleteKeysWithPrefix, startTcpRelay, TEST_REDIS_URL, uniqueKeyPrefix, type TcpRelay } from '@nest-hardening/testing';

import { SecurityMetricsCollector } from './security-metrics.collector';

/** The sample of an unlabelled series in the registry's exposition, or undefined when it has none. */
async function sample(registry: Registry, name: string): Promise<number | undefined> {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(await registry.metrics());
  return match ? Number(match[1]) : undefined;
}

const until = async (what: string, check: () => Promise<boolean>) => {
  for (const deadline = Date.now() + 10_000; !(await check()); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
};

/** A SUBSCRIBE command in RESP (the client's name, `app:subscriber`, must not match). */
const isSubscribe = (chunk: Buffer) => /\*\d+\r\n\$9\r\nsubscribe\r\n/i.test(chunk.toString('latin1'));

/**
 * The revocation feed as operators see it on /metrics: `revocation_feed_up` says whether the
 * checker may cache, `revocation_feed_losses_total` counts the outages, both read from the state
 * `@nest-hardening/sessions` keeps (it does not depend on prom-client).
 */
describe('SecurityMetricsCollector and the revocation feed', () => {
  let relay: TcpRelay;
  let moduleRef: TestingModule | undefined;
  const keyPrefix = uniqueKeyPrefix('metrics-feed');

  beforeAll(async () => {
    relay = await startTcpRelay(Number(new URL(TEST_REDIS_URL).port || 6379));
  });

  afterEach(async () => {
    relay.release();
    await moduleRef?.close();
    moduleRef = undefined;
  });

  afterAll(async () => {
    await relay.close();
    await deleteKeysWithPrefix(keyPrefix);
  });

  it('shows the feed down (0) while its subscriber is cut off, counts the outage, and up (1) once it has subscribed again', async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: `redis://127.0.0.1:${relay.port}`, keyPrefix, commandTimeoutMs: 1000, isGlobal: true }),
        SessionRevocationModule.forRoot({ cacheTtlMs: 1000, probeIntervalMs: 100 }),
      ],
      providers: [{ provide: Registry, useValue: new Registry() }, SecurityMetricsCollector],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get<Registry>(Registry);
    expect(await sample(registry, 'revocation_feed_up')).toBe(1);
    expect(await sample(registry, 'revocation_feed_losses_total')).toBe(0);

    // The connections drop; the subscriber's SUBSCRIBE after reconnecting is held back, so the feed
    // stays down (announcements could be missed) until it is released.
    relay.holdClientBytes(isSubscribe);
    relay.cut();
    await until('the feed to be reported down', async () => (await sample(registry, 'revocation_feed_up')) === 0);
    expect(await sample(registry, 'revocation_feed_losses_total')).toBe(1);

    relay.release();
    await until('the feed to be reported up again', async () => (await sample(registry, 'revocation_feed_up')) === 1);
    // One outage, however many events it took to end.
    expect(await sample(registry, 'revocation_feed_losses_total')).toBe(1);
  }, 30_000);

  it('has no feed series when the checker caches nothing (no feed to watch)', async () => {
    moduleRef = await Test.createTestingModule({
      imports: [SessionRevocationModule.forRoot({ cacheTtlMs: 0, store: 'memory' })],
      providers: [{ provide: Registry, useValue: new Registry() }, SecurityMetricsCollector],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get<Registry>(Registry);
    expect(await sample(registry, 'revocation_feed_up')).toBeUndefined();
    expect(await sample(registry, 'revocation_feed_losses_total')).toBeUndefined();
  });
});
