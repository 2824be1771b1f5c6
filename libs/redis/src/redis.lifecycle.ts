import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';

import { failureReason } from '@nest-hardening/errors';

import { InjectRedis, InjectRedisSubscriber } from './inject-redis.decorator';
import { describeRedisTarget, probeClusterSeed } from './redis-client.factory';
import type { RedisClient } from './redis-client.type';
import { RedisUnavailableError } from './redis-unavailable.error';
import { REDIS_MODULE_OPTIONS, type RedisModuleOptions } from './redis.module-definition';

const GENERIC_CONNECTION_ERROR = /^(Connection is closed\.?|None of startup nodes is available|Failed to refresh slots cache\.?)$/;

/** Connects both clients at start-up (failing fast with a clear message) and closes them on shutdown. */
@Injectable()
export class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(
    @Inject(REDIS_MODULE_OPTIONS) private readonly options: RedisModuleOptions,
    @InjectRedis() private readonly client: RedisClient,
    @InjectRedisSubscriber() private readonly subscriber: RedisClient,
  ) {}

  async onModuleInit(): Promise<void> {
    const target = describeRedisTarget(this.options);
    // connect() rejects with a generic reason ("Connection is closed.", "None of startup nodes is
    // available"); the connection's own error says what the operator must fix (WRONGPASS, a
    // certificate that is not trusted), so the first such one is kept for the start-up message.
    let firstError: Error | undefined;
    const keep = (error: Error) => {
      if (!GENERIC_CONNECTION_ERROR.test(failureReason(error))) firstError ??= error;
    };
    const clients = [this.client, this.subscriber];
    for (const client of clients) client.on('error', keep).on('node error', keep);
    try {
      await Promise.all(clients.map((client) => client.connect()));
      await this.client.ping();
    } catch (error) {
      this.client.disconnect();
      this.subscriber.disconnect();
      // A connection still under way fails later: ioredis prints an error nobody listens to as 'Unhandled error event'.
      for (const client of clients) client.on('error', () => undefined).on('node error', () => undefined);
      throw new RedisUnavailableError(target, error, firstError ?? (await probeClusterSeed(this.options)));
    } finally {
      for (const client of clients) client.off('error', keep).off('node error', keep);
    }
    // After start-up, connection errors are expected during an outage: log state changes, not every retry.
    let down = false;
    this.client.on('error', (error: Error) => {
      if (!down) this.logger.warn(`Redis connection lost: ${failureReason(error)}`);
      down = true;
    });
    this.client.on('ready', () => {
      if (down) this.logger.log('Redis connection restored');
      down = false;
    });
    this.logClusterNodes();
    this.subscriber.on('error', () => undefined);
  }

  /**
   * A cluster client stays ready while some nodes answer and reports a node it cannot reach as
   * 'node error' only, at every attempt: each such node is logged once when it is lost and once
   * when a connection to it is ready again. A single Redis never emits these events.
   */
  private logClusterNodes(): void {
    const lost = new Set<string>();
    this.client.on('node error', (error: Error, node: string) => {
      if (lost.has(node)) return;
      lost.add(node);
      this.logger.warn(`Redis node ${node} connection lost: ${failureReason(error)}`);
    });
    // The cluster client replaces a node's connection after it failed: each new one is watched.
    this.client.on('+node', (connection: Redis) => {
      const node = `${connection.options.host}:${connection.options.port}`;
      connection.once('ready', () => {
        if (lost.delete(node)) this.logger.log(`Redis node ${node} connection restored`);
      });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    // QUIT fails while Redis is unreachable, and a client left in that state keeps reconnecting
    // forever (holding the process open); disconnect() stops it either way.
    await Promise.allSettled(
      [this.client, this.subscriber].map((client) =>
        client.quit().then(
          () => client.disconnect(),
          () => client.disconnect(),
        ),
      ),
    );
  }
}
