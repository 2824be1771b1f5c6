import { z } from 'zod';

import {
  commonEnvShape,
  generatedSecret,
  ipList,
  nonNegativeInt,
  optionalBool,
  parseConfig,
  port,
  positiveInt,
  rateLimitBudget,
  timerMs,
  url,
  verifierSettings,
  type Env,
  type VerifierSettings,
} from '@nest-hardening/config';

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;

/** Comma-separated origins, each exactly as a browser sends it in `Origin`. */
const originList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .refine(
      (origins) => origins.every(isOrigin),
      'must be a comma-separated list of origins such as https://app.example.com (scheme, host, optional port; no path, no wildcard)',
    );

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

/** The gateway's settings; each `.describe()` text is its row in docs/configuration.md. */
export const apiGatewayEnvShape = {
  ...commonEnvShape,
  PORT: port(3000).describe('listen port'),
  // The gateway is the edge: by default nobody may set the client address through X-Forwarded-For.
  TRUSTED_PROXIES: ipList('none').describe(
    'load balancers allowed to set `X-Forwarded-For` (addresses, CIDRs, `loopback`; `none` trusts nobody)',
  ),
  AUTH_SERVICE_URL: url(['http', 'https'], 'http://127.0.0.1:3001').describe('auth-service upstream (the JWKS is read from it)'),
  PROFILE_SERVICE_URL: url(['http', 'https'], 'http://127.0.0.1:3002').describe('profile-service upstream'),
  UPSTREAM_TIMEOUT_MS: timerMs(10_000).describe(
    "an upstream that has not answered within this time gets the client a 504; a request that waited this long for a pooled connection (all busy) a 503. Keep it below the services' `GATEWAY_SIGNATURE_MAX_AGE_MS` less their clock skew: the gateway signs before that wait, and a service charges a request whose signature has aged out to the gateway's own address",
  ),
  UPSTREAM_CLIENT_STALL_MS: timerMs(60_000).describe(
    'an answer paused this long for a client that reads none of it is cut off, freeing its pooled connection (a slow reader is not: it drains)',
  ),
  UPSTREAM_MAX_SOCKETS: positiveInt(256).describe('keep-alive connections the gateway pools per service, at most'),
  // Below the services' 65 s keep-alive, so the gateway never reuses a connection the service is closing.
  UPSTREAM_IDLE_TIMEOUT_MS: timerMs(30_000).describe(
    "an idle pooled connection is closed after this (keep it below the services' keep-alive timeout, 65 s)",
  ),
  KEYS_DIR: z.string().default('.keys').describe('folder for development secrets generated on first start (never used in production)'),
  PSEUDONYM_SECRET: generatedSecret().describe('HMAC key of pseudonymised emails and addresses in logs and Sentry'),
  ...rateLimitBudget('GENERAL', {
    limit: 100,
    onRedisError: 'memory',
    meaning: 'general budget per user (per address when anonymous) ([rate limiting](rate-limiting.md))',
  }),
  ...rateLimitBudget('AUTH', {
    limit: 5,
    onRedisError: 'fail-closed',
    meaning: 'login, register and password-change budget per client address',
  }),
  ...rateLimitBudget('REFRESH', { limit: 30, onRedisError: 'fail-closed', meaning: 'refresh budget' }),
  // Charged in the same Redis call as the general budget; the service charges it only for direct requests.
  ...rateLimitBudget('PROFILE', {
    limit: 100,
    onRedisError: 'memory',
    meaning: "profile-service's per-user budget, charged here for requests through the gateway (set the same values on both)",
  }),
  RATE_LIMIT_MALFORMED_LIMIT: positiveInt(50).describe(
    'per-address budget of credential requests the service refused as malformed (400, 413, 415)',
  ),
  RATE_LIMIT_MALFORMED_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS).describe('window of the malformed budget'),
  RATE_LIMIT_IP_CEILING_LIMIT: nonNegativeInt(0).describe('per-address ceiling across all users; 0 turns it off'),
  RATE_LIMIT_IP_CEILING_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS).describe('window of the per-address ceiling'),
  CORS_ORIGINS: originList().describe(
    'comma-separated browser origins (`https://app.example.com`) allowed to call the API, without credentials; preflights are answered here; CORS off when unset',
  ),
  DOCS_ENABLED: optionalBool()
    .meta({ defaultText: '`true`, `false` in production' })
    .describe("serve `/docs`: every route of every app, the services' under `/api` ([API contract](api-contract.md))"),
};

const apiGatewayEnv = z.object(apiGatewayEnvShape);

export interface ApiGatewayConfig extends z.output<typeof apiGatewayEnv>, VerifierSettings {}

export function loadApiGatewayConfig(env: Env): ApiGatewayConfig {
  const parsed = parseConfig('api-gateway', apiGatewayEnv, env);
  return { ...parsed, ...verifierSettings('api-gateway', parsed) };
}

export const API_GATEWAY_CONFIG = Symbol('API_GATEWAY_CONFIG');
