import { z } from 'zod';
import { commonEnvShape, type Env, optionalBool, parseConfig, port, positiveInt, rateLimitRedisErrorMode, resolveSecrets, url } from '@nest-hardening/config';

const profileServiceEnv = z.object({
  ...commonEnvShape,
  PORT: port(3002),
  AUTH_SERVICE_URL: url(['http', 'https'], 'http://127.0.0.1:3001'),
  DATABASE_URL: url(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/auth'),
  DATABASE_MIGRATE_ON_START: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  DATABASE_POOL_SIZE: positiveInt(10),
  KEYS_DIR: z.string().default('.keys'),
  PSEUDONYM_SECRET: z.string().min(32).optional(),
  /** Per-user budget of profile-service's own routes, enforced here as well as at the gateway. */
  RATE_LIMIT_PROFILE_LIMIT: positiveInt(100),
  RATE_LIMIT_PROFILE_WINDOW_MS: positiveInt(15 * 60 * 1000),
  RATE_LIMIT_PROFILE_ON_REDIS_ERROR: rateLimitRedisErrorMode('memory'),
  /** Serve the OpenAPI page at /docs (read by the gateway's /docs); default on, except in production. */
  DOCS_ENABLED: optionalBool(),
});

export interface ProfileServiceConfig extends z.output<typeof profileServiceEnv> {
  pseudonymSecret: string;
  /** Verifies the gateway's signature on the forwarded client address (GATEWAY_SECRET). */
  gatewaySecret: string;
  jwksUrl: string;
  /** Names of secrets that were generated for development because none was configured. */
  generatedSecrets: string[];
  docsEnabled: boolean;
}

export function loadProfileServiceConfig(env: Env): ProfileServiceConfig {
  const parsed = parseConfig('profile-service', profileServiceEnv, env);
  const { values, generated } = resolveSecrets('profile-service', parsed, {
    PSEUDONYM_SECRET: parsed.PSEUDONYM_SECRET,
    GATEWAY_SECRET: parsed.GATEWAY_SECRET,
  });
  return {
    ...parsed,
    pseudonymSecret: values.PSEUDONYM_SECRET,
    gatewaySecret: values.GATEWAY_SECRET,
    jwksUrl: new URL('/.well-known/jwks.json', parsed.AUTH_SERVICE_URL).toString(),
    generatedSecrets: generated,
    docsEnabled: parsed.DOCS_ENABLED ?? parsed.NODE_ENV !== 'production',
  };
}
