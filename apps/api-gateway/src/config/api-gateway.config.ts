import { z } from 'zod';
import {
  commonEnvShape,
  type Env,
  ipList,
  nonNegativeInt,
  optionalBool,
  parseConfig,
  port,
  positiveInt,
  rateLimitRedisErrorMode,
  resolveSecrets,
  url,
} from '@nest-hardening/config';

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;

/** Comma-separated origins (`https://app.example.com`), each exactly as a browser sends it in `Origin`. */
const originList = () =>
  z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
    .refine((origins) => origins.every(isOrigin), 'must be a comma-separated list of origins such as https://app.example.com (scheme, host, optional port; no path, no wildcard)');

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

const apiGatewayEnv = z.object({
  ...commonEnvShape,
  PORT: port(3000),
  /** The gateway is the edge: by default nobody may set the client address through X-Forwarded-For. */
  TRUSTED_PROXIES: ipList('none'),
  AUTH_SERVICE_URL: url(['http', 'https'], 'http://127.0.0.1:3001'),
  PROFILE_SERVICE_URL: url(['http', 'https'], 'http://127.0.0.1:3002'),
  /** An upstream that has not answered within this time gets the client a 504. */
  UPSTREAM_TIMEOUT_MS: positiveInt(10_000),
  /** Most connections the gateway keeps open to each service. */
  UPSTREAM_MAX_SOCKETS: positiveInt(256),
  /** An idle pooled connection closes after this; keep it below the services' keep-alive timeout (65 s). */
  UPSTREAM_IDLE_TIMEOUT_MS: positiveInt(30_000),
  KEYS_DIR: z.string().default('.keys'),
  PSEUDONYM_SECRET: z.string().min(32).optional(),
  RATE_LIMIT_GENERAL_LIMIT: positiveInt(100),
  RATE_LIMIT_GENERAL_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS),
  RATE_LIMIT_GENERAL_ON_REDIS_ERROR: rateLimitRedisErrorMode('memory'),
  RATE_LIMIT_AUTH_LIMIT: positiveInt(5),
  RATE_LIMIT_AUTH_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS),
  RATE_LIMIT_AUTH_ON_REDIS_ERROR: rateLimitRedisErrorMode('fail-closed'),
  RATE_LIMIT_REFRESH_LIMIT: positiveInt(30),
  RATE_LIMIT_REFRESH_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS),
  RATE_LIMIT_REFRESH_ON_REDIS_ERROR: rateLimitRedisErrorMode('fail-closed'),
  /**
   * profile-service's per-user budget, charged here for requests that go through the gateway (in the
   * same Redis call as the general budget); the service charges it itself only for direct requests.
   * Set the same values on both.
   */
  RATE_LIMIT_PROFILE_LIMIT: positiveInt(100),
  RATE_LIMIT_PROFILE_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS),
  RATE_LIMIT_PROFILE_ON_REDIS_ERROR: rateLimitRedisErrorMode('memory'),
  /** Per-IP budget of credential requests the service refused as malformed (400, 413, 415), moved off the login budget. */
  RATE_LIMIT_MALFORMED_LIMIT: positiveInt(50),
  RATE_LIMIT_MALFORMED_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS),
  /** Per-IP ceiling across all users; 0 (the default) turns it off. */
  RATE_LIMIT_IP_CEILING_LIMIT: nonNegativeInt(0),
  RATE_LIMIT_IP_CEILING_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS),
  /** Browser origins allowed to call the API (CORS, without credentials); unset = CORS off. */
  CORS_ORIGINS: originList(),
  /** Serve the composed OpenAPI page at /docs; default on, except in production. */
  DOCS_ENABLED: optionalBool(),
});

export interface ApiGatewayConfig extends z.output<typeof apiGatewayEnv> {
  pseudonymSecret: string;
  /** Signs the forwarded client address for the services (GATEWAY_SECRET). */
  gatewaySecret: string;
  jwksUrl: string;
  /** Names of secrets that were generated for development because none was configured. */
  generatedSecrets: string[];
  docsEnabled: boolean;
}

export function loadApiGatewayConfig(env: Env): ApiGatewayConfig {
  const parsed = parseConfig('api-gateway', apiGatewayEnv, env);
  const { values, generated } = resolveSecrets('api-gateway', parsed, {
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

export const API_GATEWAY_CONFIG = Symbol('API_GATEWAY_CONFIG');
