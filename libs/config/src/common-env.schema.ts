import { z } from 'zod';

import { generatedSecret, ipList, logLevel, port, positiveInt, secret, timerMs, url } from './config-fields';
import { pemCaFile, redisClusterSeeds } from './redis-connection.env';

/**
 * Settings every service shares: where Redis is, how to log, where to report, which proxies to trust.
 * Each field's `.describe()` text is its row in docs/configuration.md (`npm run docs:config`).
 */
export const commonEnvShape = {
  NODE_ENV: z
    .enum(['production', 'development', 'test'])
    .default('development')
    .describe(
      '`production` fails closed: every secret must be set, `/docs` and an untokened `/metrics` are off ([production mode](production.md))',
    ),
  HOST: z.string().default('127.0.0.1').describe('listen address (`0.0.0.0` in containers)'),
  LOG_LEVEL: logLevel().describe('logs are one JSON object per line'),
  REDIS_URL: url(['redis', 'rediss'], 'redis://127.0.0.1:6379').describe(
    'single Redis: `redis[s]://[[user]:password@]host:port[/db]` (`rediss` is TLS)',
  ),
  REDIS_CLUSTER_NODES: redisClusterSeeds().describe(
    '`host:port,…` seeds of a Redis Cluster, or `rediss://user:password@host:port,rediss://user:password@host:port,…` (every seed a URL with the same user and password) to reach every node with that ACL user and password over TLS (`redis://` without TLS); when set, `REDIS_URL` is not used',
  ),
  REDIS_TLS_CA_FILE: pemCaFile().describe(
    "PEM file of the CA certificates that Redis's certificate is checked against, instead of Node's; setting it turns TLS on, as `rediss://` does",
  ),
  REDIS_KEY_PREFIX: z
    .string()
    .default('sec:')
    .refine((v) => !/[{}\s]/.test(v), { message: 'must not contain braces or spaces (they would break hash tags)' })
    .describe('prefix of every key and channel (no braces or spaces)'),
  // Long enough that a busy process does not mistake a slow reply for an outage (a reply that
  // arrives after the timeout was still executed by Redis), short enough that nothing hangs.
  REDIS_COMMAND_TIMEOUT_MS: timerMs(1000).describe("a Redis command that takes longer fails (the route's outage policy applies)"),
  // Services believe the gateway through its signature (GATEWAY_SECRET), not through this list.
  TRUSTED_PROXIES: ipList('none').describe(
    'peers allowed to set `X-Forwarded-For` (addresses, CIDRs, `loopback`; `none` trusts nobody); set it in a service only for a proxy of your own that overwrites the header',
  ),
  GATEWAY_SECRET: generatedSecret().describe(
    'shared by gateway and services: HMAC key of `X-Gateway-Signature` on the forwarded client address (≥ 32 chars)',
  ),
  GATEWAY_SECRET_PREVIOUS: secret().describe(
    'services only, during a rotation of `GATEWAY_SECRET`: a signature made with this value verifies too ([key rotation](key-rotation.md))',
  ),
  GATEWAY_SIGNATURE_MAX_AGE_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(300_000)
    .default(30_000)
    .describe('how long a gateway signature is accepted (the replay window; clocks must agree within it)'),
  SENTRY_DSN: url(['http', 'https'])
    .optional()
    .describe(
      'Sentry reporting: security events always go to the structured log; with a DSN a Sentry sink is added (at most 10 events of one type and rule per minute, and 100 per day, from each process) and `@sentry/nestjs` (an optional peer dependency) is loaded',
    ),
  SENTRY_ENVIRONMENT: z.string().default('development').describe('Sentry environment tag'),
  JWT_ISSUER: z.string().default('auth-service').describe('`iss` of access tokens'),
  JWT_AUDIENCE: z.string().default('payments-api').describe('`aud` of access tokens'),
  // Re-read in the background so that a key published for rotation is known before it signs.
  JWKS_MAX_AGE_MS: positiveInt(60_000).describe('verifiers re-read the JWKS this long after the last read'),
  // A flood of forged kids costs auth-service one read per period.
  JWKS_REFETCH_COOLDOWN_MS: positiveInt(5000).describe('at most one JWKS read per period on an unknown `kid` or a refused token'),
  REVOCATION_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(500)
    .describe('reuse of a "session is active" answer (0–1000); revocations still reach every process at once via pub/sub'),
  // Catches a subscription the Redis client lost or left unsubscribed without saying so (a Cluster's).
  REVOCATION_PROBE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(2000)
    .describe(
      'while answers are cached, each process publishes a probe on the revocation channel this often (100–60000) and caches nothing while its own probe has not come back within two intervals',
    ),
  // TLS usually ends at the load balancer, which may set it.
  HSTS_MAX_AGE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(63_072_000)
    .default(0)
    .describe(
      '`Strict-Transport-Security: max-age=<n>; includeSubDomains` on every answer; 0 sends none. The other security headers and `Cache-Control: no-store` (the JWKS: `public, max-age=300`) are always sent',
    ),
  // Node's default is 300 s: on the gateway a trickled upload holds a pooled connection to a service that long.
  REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(300_000)
    .default(30_000)
    .describe(
      'time a client has to send a whole request, headers and body; a slower one is answered 408 and its connection closed (on the gateway, also the longest a trickled upload holds a pooled connection to a service)',
    ),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('when set (≥ 16 chars), `/metrics` needs `Authorization: Bearer <token>`; in production, no `/metrics` without it'),
} as const;

export { port };

/** The validated settings every service has. */
export type CommonEnv = z.output<z.ZodObject<typeof commonEnvShape>>;
