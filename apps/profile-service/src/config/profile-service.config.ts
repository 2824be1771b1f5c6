import { z } from 'zod';

import {
  bool,
  checkPreviousSecrets,
  commonEnvShape,
  generatedSecret,
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

/** profile-service's settings; each `.describe()` text is its row in docs/configuration.md. */
export const profileServiceEnvShape = {
  ...commonEnvShape,
  PORT: port(3002).describe('listen port'),
  AUTH_SERVICE_URL: url(['http', 'https'], 'http://127.0.0.1:3001').describe('where the JWKS is read'),
  DATABASE_URL: url(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/auth').describe(
    'Postgres (the database is created if missing)',
  ),
  DATABASE_MIGRATE_ON_START: bool(true).describe(
    'apply migrations at start-up; when off, the app does not start while one of its migrations is not applied',
  ),
  DATABASE_POOL_SIZE: positiveInt(10).describe('Postgres connections'),
  DATABASE_QUERY_TIMEOUT_MS: timerMs(5000).describe(
    'a Postgres query not answered within this time fails (503) and its connection is closed',
  ),
  KEYS_DIR: z.string().default('.keys').describe('folder for development secrets generated on first start (never used in production)'),
  PSEUDONYM_SECRET: generatedSecret().describe('HMAC key of pseudonymised emails and addresses in logs and Sentry'),
  ...rateLimitBudget('PROFILE', {
    limit: 100,
    onRedisError: 'memory',
    meaning: "per-user budget of this service's routes, enforced here for requests that do not come through the gateway",
  }),
  DOCS_ENABLED: optionalBool()
    .meta({ defaultText: '`true`, `false` in production' })
    .describe("serve the OpenAPI page at `/docs` (read by the gateway's `/docs`)"),
};

const profileServiceEnv = z.object(profileServiceEnvShape);

export interface ProfileServiceConfig extends z.output<typeof profileServiceEnv>, VerifierSettings {}

/** The validated settings alone, without resolving secrets: enough for `main.js migrate`, which needs none. */
export function parseProfileServiceEnv(env: Env): z.output<typeof profileServiceEnv> {
  return parseConfig('profile-service', profileServiceEnv, env);
}

export function loadProfileServiceConfig(env: Env): ProfileServiceConfig {
  const parsed = parseProfileServiceEnv(env);
  const settings = verifierSettings('profile-service', parsed);
  checkPreviousSecrets(
    'profile-service',
    parsed,
    { GATEWAY_SECRET: [settings.gatewaySecret, parsed.GATEWAY_SECRET_PREVIOUS] },
    { PSEUDONYM_SECRET: settings.pseudonymSecret, GATEWAY_SECRET: settings.gatewaySecret },
  );
  return { ...parsed, ...settings };
}
