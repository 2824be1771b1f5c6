import { resolve } from 'node:path';
import { z } from 'zod';
import {
  commonEnvShape,
  type Env,
  ipList,
  loadOrCreateDevSecret,
  nonNegativeInt,
  parseConfig,
  port,
  positiveInt,
  rateLimitRedisErrorMode,
  url,
} from '@lib/config';

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;

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
  /** Per-IP ceiling across all users; 0 (the default) turns it off. */
  RATE_LIMIT_IP_CEILING_LIMIT: nonNegativeInt(0),
  RATE_LIMIT_IP_CEILING_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS),
});

export interface ApiGatewayConfig extends z.output<typeof apiGatewayEnv> {
  pseudonymSecret: string;
  jwksUrl: string;
}

export function loadApiGatewayConfig(env: Env): ApiGatewayConfig {
  const parsed = parseConfig('api-gateway', apiGatewayEnv, env);
  return {
    ...parsed,
    pseudonymSecret: parsed.PSEUDONYM_SECRET ?? loadOrCreateDevSecret(resolve(parsed.KEYS_DIR), 'pseudonym_secret'),
    jwksUrl: new URL('/.well-known/jwks.json', parsed.AUTH_SERVICE_URL).toString(),
  };
}

export const API_GATEWAY_CONFIG = Symbol('API_GATEWAY_CONFIG');
