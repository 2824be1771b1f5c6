import { resolve } from 'node:path';
import { z } from 'zod';
import { commonEnvShape, type Env, optionalBool, parseConfig, port, positiveInt, rateLimitRedisErrorMode, resolveSecrets, url } from '@nest-hardening/config';
import { createDevSigningKey, DEV_SIGNING_KEY_FILE } from '../keys/dev-signing-key';

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
  /** Fixed `kid` of JWT_PRIVATE_KEY instead of its thumbprint; cannot be combined with JWT_ADDITIONAL_PUBLIC_KEYS. */
  JWT_KEY_ID: z.string().optional(),
  /**
   * PEM public keys (one or more, concatenated) published in the JWKS and accepted besides the
   * signing key: the next key before it signs, retired keys until their tokens expire (docs/key-rotation.md).
   */
  JWT_ADDITIONAL_PUBLIC_KEYS: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt(900),
  REFRESH_TOKEN_SECRET: secret,
  FINGERPRINT_SECRET: secret,
  PSEUDONYM_SECRET: secret,
  /** During a rotation overlap: the value REFRESH_TOKEN_SECRET had before (tokens MAC'd with it still refresh). */
  REFRESH_TOKEN_SECRET_PREVIOUS: secret,
  /** During a rotation overlap: the value FINGERPRINT_SECRET had before (stored fingerprints still compare equal). */
  FINGERPRINT_SECRET_PREVIOUS: secret,
  SESSION_IDLE_TTL_MS: positiveInt(7 * 24 * 3600 * 1000),
  SESSION_ABSOLUTE_TTL_MS: positiveInt(30 * 24 * 3600 * 1000),
  REFRESH_REUSE_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  MAX_SESSIONS_PER_USER: positiveInt(100),
  FINGERPRINT_USER_AGENT_POLICY: policy.default('strict'),
  FINGERPRINT_IP_POLICY: policy.default('log'),
  FINGERPRINT_IPV4_PREFIX_BITS: z.coerce.number().int().min(0).max(32).default(24),
  FINGERPRINT_IPV6_PREFIX_BITS: z.coerce.number().int().min(0).max(128).default(64),
  LOCKOUT_SECRET: secret,
  /** During a rotation overlap: the value LOCKOUT_SECRET had before (counts and known addresses move to the new names). */
  LOCKOUT_SECRET_PREVIOUS: secret,
  LOCKOUT_PAIR_MAX_FAILURES: positiveInt(5),
  LOCKOUT_PAIR_WINDOW_MS: positiveInt(15 * 60 * 1000),
  LOCKOUT_BASE_LOCK_MS: positiveInt(15 * 60 * 1000),
  LOCKOUT_MAX_LOCK_MS: positiveInt(24 * 3600 * 1000),
  LOCKOUT_BACKOFF_RESET_MS: positiveInt(24 * 3600 * 1000),
  LOCKOUT_EMAIL_MAX_FAILURES: positiveInt(100),
  LOCKOUT_EMAIL_WINDOW_MS: positiveInt(3600 * 1000),
  /** The account-wide lock ends on a known address's login, a password change or an admin unlock; at most after this. */
  LOCKOUT_EMAIL_LOCK_MS: positiveInt(90 * 24 * 3600 * 1000),
  LOCKOUT_IP_MAX_FAILURES: positiveInt(50),
  LOCKOUT_IP_WINDOW_MS: positiveInt(3600 * 1000),
  LOCKOUT_IP_BLOCK_MS: positiveInt(3600 * 1000),
  LOCKOUT_KNOWN_ADDRESS_TTL_MS: positiveInt(30 * 24 * 3600 * 1000),
  LOCKOUT_NOTIFICATION_INTERVAL_MS: positiveInt(3600 * 1000),
  /** Security events older than this are deleted from the audit trail (in batches). */
  AUDIT_RETENTION_DAYS: positiveInt(400),
  AUDIT_RETENTION_INTERVAL_MS: positiveInt(3600 * 1000),
  /** Events held in memory while Postgres cannot take them; beyond this the oldest are dropped (and counted). */
  AUDIT_BUFFER_MAX: positiveInt(10_000),
  AUDIT_FLUSH_INTERVAL_MS: positiveInt(200),
  /** Wrong current passwords a session may try in a password change before it is ended. */
  PASSWORD_CHANGE_MAX_FAILURES: positiveInt(5),
  LOCKOUT_ON_REDIS_ERROR: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
  /** `smtp://user:pass@host:port` (or smtps://); lock notification emails are off when unset. */
  SMTP_URL: url(['smtp', 'smtps']).optional(),
  SMTP_FROM: z.string().default('Security <no-reply@localhost>'),
  BOOTSTRAP_ADMIN_EMAIL: z.string().email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).max(128).optional(),
  /**
   * Names of the product a password must not contain (comma-separated), besides the user's own email;
   * words shorter than 4 letters or digits are ignored.
   */
  PASSWORD_CONTEXT_WORDS: z
    .string()
    .default('nest-security-hardening')
    .transform((v) => v.split(',').map((w) => w.trim()).filter((w) => w.length > 0)),
  /** Base URL of a Pwned Passwords-compatible range API (`GET <url>/range/<5 hex digits>`); unset = no breach check. */
  PASSWORD_BREACH_API_URL: url(['http', 'https']).optional(),
  /** The breach check fails open after this long (the password is accepted and an event is emitted). */
  PASSWORD_BREACH_API_TIMEOUT_MS: positiveInt(2000),
  /** Per-admin budget of the account administration routes (`/accounts/*`), enforced in this service. */
  RATE_LIMIT_ADMIN_LIMIT: positiveInt(100),
  RATE_LIMIT_ADMIN_WINDOW_MS: positiveInt(15 * 60 * 1000),
  RATE_LIMIT_ADMIN_ON_REDIS_ERROR: rateLimitRedisErrorMode('memory'),
  /** Serve the OpenAPI page at /docs; default on, except in production. */
  DOCS_ENABLED: optionalBool(),
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
  secrets: { jwtPrivateKey: string; refreshToken: string; fingerprint: string; pseudonym: string; lockout: string; gateway: string };
  /** Values the HMAC secrets had before their rotation, accepted during the overlap; never required, never generated. */
  previousSecrets: { refreshToken?: string; fingerprint?: string; lockout?: string };
  /** Names of secrets that were generated for development because none was configured. */
  generatedSecrets: string[];
  docsEnabled: boolean;
}

/** The validated settings alone, without resolving secrets: enough for `main.js migrate`, which needs none. */
export function parseAuthServiceEnv(env: Env): AuthServiceEnv {
  return parseConfig('auth-service', authServiceEnv, env);
}

export function loadAuthServiceConfig(env: Env): AuthServiceConfig {
  const parsed = parseAuthServiceEnv(env);
  const { values, generated } = resolveSecrets(
    'auth-service',
    parsed,
    {
      JWT_PRIVATE_KEY: parsed.JWT_PRIVATE_KEY,
      REFRESH_TOKEN_SECRET: parsed.REFRESH_TOKEN_SECRET,
      FINGERPRINT_SECRET: parsed.FINGERPRINT_SECRET,
      PSEUDONYM_SECRET: parsed.PSEUDONYM_SECRET,
      LOCKOUT_SECRET: parsed.LOCKOUT_SECRET,
      GATEWAY_SECRET: parsed.GATEWAY_SECRET,
    },
    { JWT_PRIVATE_KEY: { file: DEV_SIGNING_KEY_FILE, create: createDevSigningKey } },
  );
  return {
    ...parsed,
    KEYS_DIR: resolve(parsed.KEYS_DIR),
    secrets: {
      jwtPrivateKey: values.JWT_PRIVATE_KEY,
      refreshToken: values.REFRESH_TOKEN_SECRET,
      fingerprint: values.FINGERPRINT_SECRET,
      pseudonym: values.PSEUDONYM_SECRET,
      lockout: values.LOCKOUT_SECRET,
      gateway: values.GATEWAY_SECRET,
    },
    previousSecrets: {
      refreshToken: parsed.REFRESH_TOKEN_SECRET_PREVIOUS,
      fingerprint: parsed.FINGERPRINT_SECRET_PREVIOUS,
      lockout: parsed.LOCKOUT_SECRET_PREVIOUS,
    },
    generatedSecrets: generated,
    docsEnabled: parsed.DOCS_ENABLED ?? parsed.NODE_ENV !== 'production',
  };
}

export const AUTH_SERVICE_CONFIG = Symbol('AUTH_SERVICE_CONFIG');
