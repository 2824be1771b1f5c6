import type { ConnectionOptions } from 'node:tls';

import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface RedisModuleOptions {
  /** `redis[s]://[[user]:password@]host:port[/db]` of a single Redis. Ignored when `clusterNodes` is set. */
  url: string;
  /** Seed nodes (`host:port`) of a Redis Cluster; when set, a cluster client is created instead. */
  clusterNodes?: string[];
  /** ACL user every connection authenticates as (a single Redis: only when `url` carries no credentials, which win). */
  username?: string;
  /** Password every connection authenticates with, on every node of a cluster (a single Redis: only when `url` carries none, which wins). */
  password?: string;
  /**
   * TLS for every connection: `true` verifies the server against Node's CAs; options add to that,
   * e.g. `{ ca }` for a private CA. A single Redis also turns TLS on with a `rediss://` url.
   */
  tls?: boolean | ConnectionOptions;
  /** Prepended to every key and channel, so several deployments or test runs share one Redis safely. */
  keyPrefix: string;
  /** A command that gets no answer within this many ms fails instead of stalling the request. */
  commandTimeoutMs: number;
  /** Name shown in CLIENT LIST; helps when several services share one Redis. */
  connectionName?: string;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: REDIS_MODULE_OPTIONS } = new ConfigurableModuleBuilder<RedisModuleOptions>({
  moduleName: 'Redis',
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
