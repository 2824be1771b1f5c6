import Redis, { ReplyError } from 'ioredis';

import { DependencyUnavailableError } from '@nest-hardening/errors';
import { freePort, startRedisServer } from '@nest-hardening/testing';

import { redisCall, redisFailure } from './redis-failure';
import { RedisScript } from './redis-script';

/** Real servers: a command error reply stays a bug, a refused connection becomes "unavailable". */
describe('Redis failures', () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, keyPrefix: `redis-failure-${process.pid}:` });

  afterAll(async () => {
    await redis.del('string');
    redis.disconnect();
  });

  it('keeps an error reply (a wrong command) as it is: a bug, answered 500', async () => {
    await redis.set('string', 'x');
    const failure = await redisCall(redis.hget('string', 'field')).catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(DependencyUnavailableError);
    expect((failure as Error).message).toMatch(/^WRONGTYPE/);
    const script = new RedisScript('broken', "return redis.call('HGET', KEYS[1], 'f')");
    const scriptFailure = await script.run(redis, ['string'], []).catch((error: unknown) => error);
    expect(scriptFailure).not.toBeInstanceOf(DependencyUnavailableError);
  });

  it('treats what a failing-over Cluster answers as an outage (503), and a wrong command as a bug', () => {
    const reply = (message: string) => new (ReplyError as new (message: string) => Error)(message);
    // What ioredis gives up with, or is answered, while a killed master's replica is promoted.
    for (const failure of [
      reply('CLUSTERDOWN The cluster is down'),
      reply('TRYAGAIN Multiple keys request during rehashing of slot'),
      reply("READONLY You can't write against a read only replica."),
      reply('LOADING Redis is loading the dataset in memory'),
      reply('ERR Script attempted to access a non local key in a cluster node script: f_0123, on @user_script:12.'),
      new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 12145 127.0.0.1:38099'),
    ]) {
      expect(redisFailure(failure)).toBeInstanceOf(DependencyUnavailableError);
    }
    const bug = reply("ERR wrong number of arguments for 'evalsha' command");
    expect(redisFailure(bug)).toBe(bug);
  });

  it('treats a full Redis (maxmemory reached, noeviction) as an outage (503), for commands and scripts alike', async () => {
    // docs/capacity.md recommends noeviction: a full server refuses writes with OOM until memory is
    // freed or added, which is the dependency being unavailable, not a bug in the command.
    const server = await startRedisServer(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    const full = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 0 });
    try {
      const filler = 'x'.repeat(64 * 1024);
      let refusal: unknown;
      for (let i = 0; i < 200 && refusal === undefined; i++)
        await full.set(`fill:${i}`, filler).catch((error: unknown) => (refusal = error));
      expect((refusal as Error).message).toMatch(/^OOM /);
      expect(await redisCall(full.set('k', filler)).catch((error: unknown) => error)).toBeInstanceOf(DependencyUnavailableError);
      const write = new RedisScript('write', "return redis.call('SET', KEYS[1], ARGV[1])");
      expect(await write.run(full, ['k'], [filler]).catch((error: unknown) => error)).toBeInstanceOf(DependencyUnavailableError);
    } finally {
      full.disconnect();
      await server.stop();
    }
  });

  it('turns a server that cannot be reached into DependencyUnavailableError (503)', async () => {
    const port = await freePort();
    const down = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      const failure = await new RedisScript('ping', "return 'PONG'").run(down, [], []).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DependencyUnavailableError);
      expect((failure as DependencyUnavailableError).dependency).toBe('redis');
      expect(await redisCall(down.get('k')).catch((error: unknown) => error)).toBeInstanceOf(DependencyUnavailableError);
    } finally {
      down.disconnect();
    }
  });
});
