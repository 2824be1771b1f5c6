import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { SessionStoreKind } from './session-store.provider';

/** What happens on refresh when a fingerprint component differs from the one recorded at login. */
export type FingerprintPolicy = 'strict' | 'log' | 'off';

export interface SessionsModuleOptions {
  /**
   * Where sessions live. `'redis'` (default): shared by every instance, through the global
   * `RedisModule`. `'memory'`: this process only, no Redis needed; for an adopter's unit tests,
   * never for production (it logs a warning at start-up when `NODE_ENV=production`). Give
   * `SessionRevocationModule` the same store (both then share one).
   */
  store?: SessionStoreKind;
  /** HMAC key that makes refresh tokens unforgeable (at least 32 characters). */
  refreshTokenSecret: string;
  /** HMAC key for the user-agent and IP fingerprints stored with each session. */
  fingerprintSecret: string;
  /** During a secret rotation: the previous refresh-token secret, still accepted (never used to sign). */
  previousRefreshTokenSecret?: string;
  /** During a secret rotation: the previous fingerprint secret; fingerprints stored under it still compare equal. */
  previousFingerprintSecret?: string;
  /** A session ends this long after its last refresh. */
  idleTtlMs: number;
  /** A session ends this long after login, however often it is refreshed. */
  absoluteTtlMs: number;
  /** Window in which a just-rotated refresh token may be presented again and get the same successor; 0 disables. */
  reuseGraceMs: number;
  /** Live sessions per user; creating one more ends the least recently refreshed. */
  maxSessionsPerUser: number;
  fingerprint: {
    userAgent: FingerprintPolicy;
    ip: FingerprintPolicy;
    /** IPs are compared by network: this many leading bits of an IPv4 / IPv6 address. */
    ipv4PrefixBits: number;
    ipv6PrefixBits: number;
  };
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: SESSIONS_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<SessionsModuleOptions>({ moduleName: 'Sessions' }).setClassMethodName('forRoot').build();
