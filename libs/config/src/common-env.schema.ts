import { z } from 'zod';
import { ipList, logLevel, port, positiveInt, url } from './config-fields';

/** Settings every service shares: where Redis is, how to log, where to report, which proxies to trust. */
export const commonEnvShape = {
  /** `production` fails closed: every secret must be set, and /docs and an untokened /metrics are off. */
  NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: logLevel(),
  REDIS_URL: url(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  /** Comma-separated `host:port` seeds of a Redis Cluster; when set, REDIS_URL is not used. */
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined))
    .refine((nodes) => !nodes || nodes.every((n) => /^[^:\s]+:\d{1,5}$/.test(n)), { message: 'must be host:port,host:port' }),
  REDIS_KEY_PREFIX: z
    .string()
    .default('sec:')
    .refine((v) => !/[{}\s]/.test(v), { message: 'must not contain braces or spaces (they would break hash tags)' }),
  // Long enough that a busy process does not mistake a slow reply for an outage (a reply that
  // arrives after the timeout was still executed by Redis), short enough that nothing hangs.
  REDIS_COMMAND_TIMEOUT_MS: positiveInt(1000),
  /**
   * Peers allowed to set X-Forwarded-For (addresses, CIDRs, `loopback`); `none` (the default) trusts
   * nobody. Services believe the gateway through its signature (GATEWAY_SECRET), not through this
   * list: set it only for a proxy of your own in front of a service that overwrites X-Forwarded-For.
   */
  TRUSTED_PROXIES: ipList('none'),
  /** Shared by the gateway and the services: the gateway signs the client address it forwards with it. */
  GATEWAY_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** How long a gateway signature is accepted (the replay window); clocks of gateway and services must agree within it. */
  GATEWAY_SIGNATURE_MAX_AGE_MS: z.coerce.number().int().min(1000).max(300_000).default(30_000),
  SENTRY_DSN: url(['http', 'https']).optional(),
  SENTRY_ENVIRONMENT: z.string().default('development'),
  JWT_ISSUER: z.string().default('auth-service'),
  JWT_AUDIENCE: z.string().default('payments-api'),
  /** "Session is active" answers reused for at most this long; revocations still reach every process at once via pub/sub. */
  REVOCATION_CACHE_MS: z.coerce.number().int().min(0).max(1000).default(500),
  /** HSTS max-age on every response; 0 sends none (TLS usually ends at the load balancer, which may set it). */
  HSTS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(63_072_000).default(0),
  /** When set, GET /metrics needs `Authorization: Bearer <token>`; in production /metrics is not served without it. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
} as const;

export { port };

const commonEnvSchema = z.object(commonEnvShape);

/** The validated settings every service has. */
export type CommonEnv = z.output<typeof commonEnvSchema>;
