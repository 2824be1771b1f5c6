import { once } from 'node:events';

import { ConsoleLogger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';

import { startRedisCluster, type TestRedisCluster } from '@nest-hardening/testing';

import type { RedisClient } from './redis-client.type';
import { REDIS_CLIENT } from './redis.constants';
import { RedisModule } from './redis.module';

/** Keeps the warnings the app would log. */
class WarningsLogger extends ConsoleLogger {
  readonly warnings: string[] = [];

  override warn(message: unknown): void {
    this.warnings.push(String(message));
  }

  override log(): void {}
}

describe('RedisLifecycle on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);

  afterAll(async () => {
    await moduleRef?.close();
    await cluster?.stop();
  });

  it('logs once that a master it cannot reach is down, while the client stays ready on the others', async () => {
    const keyPrefix = 'lifecycle-cluster-test:';
    const logger = new WarningsLogger();
    moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: '', clusterNodes: cluster.nodes, keyPrefix, commandTimeoutMs: 500 })],
    })
      .setLogger(logger)
      .compile();
    await moduleRef.init();
    const client = moduleRef.get<RedisClient>(REDIS_CLIENT);
    const victim = await cluster.masterOf(`${keyPrefix}{down}:k`);

    await cluster.kill(victim);
    for (let attempt = 0; attempt < 3; attempt++) {
      const nodeError = once(client, 'node error');
      const read = client.get('{down}:k').catch((error: unknown) => error);
      await nodeError;
      await read;
    }

    expect(client.status).toBe('ready');
    expect(logger.warnings.filter((line) => line.includes(victim))).toEqual([expect.stringMatching(/^Redis node .* connection lost: /)]);
  });
});
