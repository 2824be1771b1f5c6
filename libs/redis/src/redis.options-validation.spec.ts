import { Test } from '@nestjs/testing';

import { TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { createRedisClient } from './redis-client.factory';
import { REDIS_CLIENT } from './redis.constants';
import { RedisModule } from './redis.module';
import type { RedisModuleOptions } from './redis.module-definition';

/** Starts an app on the test Redis with these changes to valid options: the start-up error, or what the client was given. */
async function start(change: Partial<Record<keyof RedisModuleOptions, unknown>>): Promise<{ error?: string; started?: object }> {
  const options = { url: TEST_REDIS_URL, keyPrefix: uniqueKeyPrefix('redis-options'), commandTimeoutMs: 500, ...change };
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRootAsync({ useFactory: () => options as RedisModuleOptions })],
    }).compile();
    await moduleRef.init();
    const { host, port, commandTimeout } = moduleRef.get<{ options: Record<string, unknown> }>(REDIS_CLIENT).options;
    await moduleRef.close();
    return { started: { host, port, commandTimeout } };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('RedisModule options', () => {
  // Each came from config through `process.env.X!` or `Number(process.env.X)`. Unchecked, an unset url
  // connected to whatever Redis listens on localhost:6379, an unset or 0 timeout started an app whose
  // requests wait forever on a Redis that stops answering, and NaN or a negative timeout failed with
  // "Redis is not reachable", sending the operator to look at a Redis that was fine.
  it.each([
    {
      what: 'an unset url',
      change: { url: undefined },
      says: /^RedisModule: url must be a redis:\/\/ or rediss:\/\/ url, or clusterNodes set/,
    },
    { what: 'an empty url', change: { url: '' }, says: /^RedisModule: url must be a redis:\/\/ or rediss:\/\/ url, or clusterNodes set/ },
    { what: 'an unset commandTimeoutMs', change: { commandTimeoutMs: undefined }, says: /^RedisModule: commandTimeoutMs must be/ },
    { what: 'commandTimeoutMs 0 (no timeout at all)', change: { commandTimeoutMs: 0 }, says: /^RedisModule: commandTimeoutMs must be/ },
    { what: 'commandTimeoutMs NaN', change: { commandTimeoutMs: NaN }, says: /^RedisModule: commandTimeoutMs must be .* \(got NaN\)/ },
    { what: 'a negative commandTimeoutMs', change: { commandTimeoutMs: -5 }, says: /^RedisModule: commandTimeoutMs must be/ },
    { what: 'an unset keyPrefix', change: { keyPrefix: undefined }, says: /^RedisModule: keyPrefix must be a string/ },
    {
      what: 'a cluster seed without a port',
      change: { clusterNodes: ['10.0.0.1'] },
      says: /^RedisModule: clusterNodes must be host:port seeds/,
    },
  ])('refuses to start with $what, naming the option', async ({ change, says }) => {
    const outcome = await start(change);
    expect(outcome.error).toMatch(says);
  });

  it('starts with valid options, and takes a cluster without a url', async () => {
    expect(await start({})).toEqual({ started: { host: '127.0.0.1', port: 6379, commandTimeout: 500 } });
    // A cluster's seeds replace the url (adopters pass url: ''); the client is lazy, nothing connects here.
    const cluster = createRedisClient({ url: '', clusterNodes: ['127.0.0.1:7000'], keyPrefix: 'p:', commandTimeoutMs: 500 });
    cluster.disconnect();
  });
});
