import { once } from 'node:events';

import { Test, type TestingModule } from '@nestjs/testing';
import { Registry } from 'prom-client';

import { REDIS_CLIENT, RedisModule, type RedisClient } from '@nest-hardening/redis';
import { startRedisCluster, type TestRedisCluster } from '@nest-hardening/testing';

import { RedisMetricsCollector } from './redis-metrics.collector';

/** The value of an unlabelled series of `registry`. */
async function value(registry: Registry, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? 0;
}

/**
 * A cluster client reports a node it cannot reach as 'node error' only, and stays ready while the
 * other nodes answer: a dead master must still show in the connection metrics.
 */
describe('RedisMetricsCollector on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);

  afterAll(async () => {
    await moduleRef?.close();
    await cluster?.stop();
  });

  it('counts the failed connects to a master that went down in redis_connection_errors_total', async () => {
    const keyPrefix = 'metrics-cluster-test:';
    moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: '', clusterNodes: cluster.nodes, keyPrefix, commandTimeoutMs: 500 })],
      providers: [{ provide: Registry, useValue: new Registry() }, RedisMetricsCollector],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get<Registry>(Registry);
    const client = moduleRef.get<RedisClient>(REDIS_CLIENT);
    await client.set('{down}:k', '1');
    expect(await value(registry, 'redis_connection_errors_total')).toBe(0);

    const nodeError = once(client, 'node error');
    await cluster.kill(await cluster.masterOf(`${keyPrefix}{down}:k`));
    // A command for a slot of the dead master makes the client try to reach it again.
    const read = client.get('{down}:k').catch((error: unknown) => error);
    await nodeError;
    expect(await read).toBeInstanceOf(Error);

    expect(await value(registry, 'redis_connection_errors_total')).toBeGreaterThan(0);
  });
});
