import { resolve } from 'node:path';
import { z } from 'zod';
import { commonEnvShape, type Env, loadOrCreateDevSecret, parseConfig, port, positiveInt, rateLimitRedisErrorMode, url } from '@lib/config';

const policy = z.enum(['strict', 'log', 'off']);
const secret = z.string().min(32, 'must be at least 32 characters').optional();

const authServiceEnv = z.object({
  ...commonEnvShape,
  PORT: port(3001),
  DATABASE_URL: url(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/auth'),
  DATABASE_MIGRATE_ON_START: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  DATABASE_POOL_SIZE: positiveInt(10),
  /** Folder for development keys and secrets generated on first start (git-ignored). */
  KEYS_DIR: z.string().default('.keys'),
  /** PEM (PKCS#8) ES256 private key; production must set it. */
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_KEY_ID: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt(900),
  REFRESH_TOKEN_SECRET: secret,
  FINGERPRINT_SECRET: secret,
  PSEUDONYM_SECRET: secret,
  SESSION_IDLE_TTL_MS: positiveInt(7 * 24 * 3600 * 1000),
  SESSION_ABSOLUTE_TTL_MS: positiveInt(30 * 24 * 3600 * 1000),
  REFRESH_REUSE_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  MAX_SESSIONS_PER_USER: positiveInt(100),
  FINGERPRINT_USER_AGENT_POLICY: policy.default('strict'),
  FINGERPRINT_IP_POLICY: policy.default('log'),
  FINGERPRINT_IPV4_PREFIX_BITS: z.coerce.number().int().min(0).max(32).default(24),
  FINGERPRINT_IPV6_PREFIX_BITS: z.coerce.number().int().min(0).max(128).default(64),
  LOCKOUT_SECRET: secret,
  LOCKOUT_PAIR_MAX_FAILURES: positiveInt(5),
  LOCKOUT_PAIR_WINDOW_MS: positiveInt(15 * 60 * 1000),
  LOCKOUT_BASE_LOCK_MS: positiveInt(15 * 60 * 1000),
  LOCKOUT_MAX_LOCK_MS: positiveInt(24 * 3600 * 1000),
  LOCKOUT_BACKOFF_RESET_MS: positiveInt(24 * 3600 * 1000),
  LOCKOUT_EMAIL_MAX_FAILURES: positiveInt(100),
  LOCKOUT_EMAIL_WINDOW_MS: positiveInt(3600 * 1000),
  LOCKOUT_EMAIL_LOCK_MS: positiveInt(3600 * 1000),
  LOCKOUT_IP_MAX_FAILURES: positiveInt(50),
  LOCKOUT_IP_WINDOW_MS: positiveInt(3600 * 1000),
  LOCKOUT_IP_BLOCK_MS: positiveInt(3600 * 1000),
  LOCKOUT_KNOWN_ADDRESS_TTL_MS: positiveInt(30 * 24 * 3600 * 1000),
  LOCKOUT_NOTIFICATION_INTERVAL_MS: positiveInt(3600 * 1000),
  LOCKOUT_ON_REDIS_ERROR: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
  /** `smtp://user:pass@host:port` (or smtps://); lock notification emails are off when unset. */
  SMTP_URL: url(['smtp', 'smtps']).optional(),
  SMTP_FROM: z.string().default('Security <no-reply@localhost>'),
  BOOTSTRAP_ADMIN_EMAIL: z.string().email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).max(128).optional(),
  /** Per-admin budget of the account administration routes (`/accounts/*`), enforced in this service. */
  RATE_LIMIT_ADMIN_LIMIT: positiveInt(100),
  RATE_LIMIT_ADMIN_WINDOW_MS: positiveInt(15 * 60 * 1000),
  RATE_LIMIT_ADMIN_ON_REDIS_ERROR: rateLimitRedisErrorMode('memory'),
  /**
   * The gateway's login and refresh budgets (same names and defaults), enforced here too for
   * requests that do not come through the gateway (no valid gateway signature).
   */
  RATE_LIMIT_AUTH_LIMIT: positiveInt(5),
  RATE_LIMIT_AUTH_WINDOW_MS: positiveInt(15 * 60 * 1000),
  RATE_LIMIT_AUTH_ON_REDIS_ERROR: rateLimitRedisErrorMode('fail-closed'),
  RATE_LIMIT_REFRESH_LIMIT: positiveInt(30),
  RATE_LIMIT_REFRESH_WINDOW_MS: positiveInt(15 * 60 * 1000),
  RATE_LIMIT_REFRESH_ON_REDIS_ERROR: rateLimitRedisErrorMode('fail-closed'),
  /**
   * Per-address budget of credential requests refused as malformed (400, 413, 415): they are moved
   * off the login budget onto this one, so junk cannot spend a neighbour's logins.
   */
  RATE_LIMIT_MALFORMED_LIMIT: positiveInt(50),
  RATE_LIMIT_MALFORMED_WINDOW_MS: positiveInt(15 * 60 * 1000),
  /** Registrations across all clients: bounds how fast anyone can learn which emails have an account (409). */
  RATE_LIMIT_REGISTRATION_LIMIT: positiveInt(100),
  RATE_LIMIT_REGISTRATION_WINDOW_MS: positiveInt(15 * 60 * 1000),
  RATE_LIMIT_REGISTRATION_ON_REDIS_ERROR: rateLimitRedisErrorMode('memory'),
});

export type AuthServiceEnv = z.output<typeof authServiceEnv>;

/** The validated configuration of auth-service plus the secrets it resolved. */
export interface AuthServiceConfig extends AuthServiceEnv {
  secrets: { refreshToken: string; fingerprint: string; pseudonym: string; lockout: string; gateway: string };
  /** Names of secrets that were generated for development because none was configured. */
  generatedSecrets: string[];
}

export function loadAuthServiceConfig(env: Env): AuthServiceConfig {
  const parsed = parseConfig('auth-service', authServiceEnv, env);
  const keysDir = resolve(parsed.KEYS_DIR);
  const generatedSecrets: string[] = [];
  const pick = (value: string | undefined, name: string) => {
    if (value) return value;
    generatedSecrets.push(name);
    return loadOrCreateDevSecret(keysDir, name.toLowerCase());
  };
  return {
    ...parsed,
    KEYS_DIR: keysDir,
    secrets: {
      refreshToken: pick(parsed.REFRESH_TOKEN_SECRET, 'REFRESH_TOKEN_SECRET'),
      fingerprint: pick(parsed.FINGERPRINT_SECRET, 'FINGERPRINT_SECRET'),
      pseudonym: pick(parsed.PSEUDONYM_SECRET, 'PSEUDONYM_SECRET'),
      lockout: pick(parsed.LOCKOUT_SECRET, 'LOCKOUT_SECRET'),
      gateway: pick(parsed.GATEWAY_SECRET, 'GATEWAY_SECRET'),
    },
    generatedSecrets,
  };
}

export const AUTH_SERVICE_CONFIG = Symbol('AUTH_SERVICE_CONFIG');
