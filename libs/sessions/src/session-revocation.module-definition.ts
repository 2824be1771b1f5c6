import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { SessionStoreKind } from './session-store.provider';

export interface SessionRevocationModuleOptions {
  /**
   * Where sessions live. `'redis'` (default): shared by every instance, through the global
   * `RedisModule`. `'memory'`: this process only, no Redis needed; for an adopter's unit tests,
   * never for production (it logs a warning at start-up when `NODE_ENV=production`). With
   * `SessionsModule` in the same app, give it the same store (both then share one).
   */
  store?: SessionStoreKind;
  /**
   * How long a "session is active" answer may be reused without asking Redis. Revocations are
   * pushed to every process over pub/sub and drop the entry at once; this TTL bounds staleness if a
   * message is lost. Must not exceed 1000 ms (the revocation-propagation promise); 0 disables.
   */
  cacheTtlMs: number;
  /** Upper bound of cached answers per process. */
  cacheMaxEntries?: number;
  /**
   * While answers are cached (`cacheTtlMs` > 0), each process publishes a probe on the revocation
   * channel this often and stops caching when its own probe has not come back within two intervals
   * (the feed may be missing announcements, unseen by the Redis client). One PUBLISH per process per
   * interval. From 100 to 60000; default 2000.
   */
  probeIntervalMs?: number;
}

export const MIN_PROBE_INTERVAL_MS = 100;
export const MAX_PROBE_INTERVAL_MS = 60_000;

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: SESSION_REVOCATION_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<SessionRevocationModuleOptions>({ moduleName: 'SessionRevocation' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
