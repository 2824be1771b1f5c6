import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { RateLimitPolicyDefinition } from './rate-limit.policy';

export interface RateLimitModuleOptions {
  /**
   * Where counters live. `'redis'` (default): shared by every instance, through the global
   * `RedisModule`. `'memory'`: this process only, no Redis needed; for an adopter's unit tests,
   * never for production (it logs a warning at start-up when `NODE_ENV=production`).
   */
  store?: 'redis' | 'memory';
  /** The full policy list. Defaults to `DEFAULT_RATE_LIMIT_POLICIES` (general, auth, refresh, admin). */
  policies?: readonly RateLimitPolicyDefinition[];
  /** Per-policy changes applied on top of `policies`, e.g. `{ general: { limit: 300 } }`. */
  overrides?: Readonly<Record<string, Partial<Omit<RateLimitPolicyDefinition, 'name'>>>>;
  /** Adds the per-IP ceiling across all users; `true` uses `DEFAULT_IP_CEILING_POLICY`. Off by default. */
  ipCeiling?: boolean | Partial<Omit<RateLimitPolicyDefinition, 'name'>>;
  /** `Retry-After` (seconds) of the 503 sent by fail-closed policies while Redis is unavailable. Default 30. */
  unavailableRetryAfterSec?: number;
  /** Most trackers the in-memory fallback keeps per process; the oldest is evicted beyond it. Default 10 000. */
  memoryFallbackMaxEntries?: number;
  /**
   * Policies the gateway already charged: a request that proves it came through the gateway (a
   * verified gateway signature, see `@nest-hardening/client-ip`) is not charged them again here. Services only.
   */
  gatewayEnforced?: readonly string[];
  /** `message` of the 429 body. */
  errorMessage?: string;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: RATE_LIMIT_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<RateLimitModuleOptions>({ moduleName: 'RateLimit' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
