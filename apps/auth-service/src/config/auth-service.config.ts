import { resolve } from 'node:path';

import { z } from 'zod';

import {
  bool,
  checkPreviousSecrets,
  commonEnvShape,
  docsEnabled,
  generatedSecret,
  optionalBool,
  parseConfig,
  port,
  positiveInt,
  rateLimitBudget,
  resolveSecrets,
  secret,
  timerMs,
  url,
  type Env,
} from '@nest-hardening/config';
import { MAX_REUSE_GRACE_MS } from '@nest-hardening/sessions';

import { isNewAccountEmail } from '../accounts/account-email';
import { createDevSigningKey, DEV_SIGNING_KEY_FILE } from '../keys/dev-signing-key';
import {
  hasAcceptablePasswordLength,
  PASSWORD_LENGTH_MESSAGE,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '../passwords/password-length';

const policy = z.enum(['strict', 'log', 'off']);
const DAY_MS = 24 * 3600 * 1000;
const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
/** NIST SP 800-63B: no more than 100 consecutive failed authentication attempts on one account. */
const MAX_CONSECUTIVE_FAILURES = 100;

/** auth-service's settings; each `.describe()` text is its row in docs/configuration.md. */
export const authServiceEnvShape = {
  ...commonEnvShape,
  PORT: port(3001).describe('listen port'),
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
  KEYS_DIR: z
    .string()
    .default('.keys')
    .describe('folder for development keys and secrets generated on first start (never used in production)'),
  JWT_PRIVATE_KEY: z
    .string()
    .optional()
    .meta({ defaultText: 'generated in `KEYS_DIR`' })
    .describe('PEM (PKCS#8) EC P-256 key that signs access tokens'),
  // A fixed kid cannot tell a rotated key from the old one, hence not with additional keys.
  JWT_KEY_ID: z
    .string()
    .optional()
    .describe('`kid` of `JWT_PRIVATE_KEY` instead of its RFC 7638 thumbprint; not with `JWT_ADDITIONAL_PUBLIC_KEYS`'),
  JWT_ADDITIONAL_PUBLIC_KEYS: z
    .string()
    .optional()
    .describe(
      'PEM public keys (concatenated) also published and accepted: the next key before it signs, retired ones until their tokens expire ([key rotation](key-rotation.md))',
    ),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt(900).describe('access-token lifetime'),
  REFRESH_TOKEN_SECRET: generatedSecret().describe('HMAC key of refresh tokens'),
  FINGERPRINT_SECRET: generatedSecret().describe('HMAC key of session fingerprints'),
  PSEUDONYM_SECRET: generatedSecret().describe('HMAC key of pseudonymised emails and addresses in logs, Sentry and the audit trail'),
  REFRESH_TOKEN_SECRET_PREVIOUS: secret().describe(
    'during a rotation overlap: the previous `REFRESH_TOKEN_SECRET` (its tokens still refresh)',
  ),
  FINGERPRINT_SECRET_PREVIOUS: secret().describe(
    'during a rotation overlap: the previous `FINGERPRINT_SECRET` (stored fingerprints still compare equal)',
  ),
  SESSION_IDLE_TTL_MS: positiveInt(7 * DAY_MS).describe('a session ends this long after its last refresh'),
  SESSION_ABSOLUTE_TTL_MS: positiveInt(30 * DAY_MS).describe('a session ends this long after login, refreshed or not'),
  REFRESH_REUSE_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_REUSE_GRACE_MS)
    .default(10_000)
    .describe('grace window for concurrent refreshes of one token (0 disables; at most 60000: longer, it is a replay window)'),
  MAX_SESSIONS_PER_USER: positiveInt(100).describe('live sessions per user; a login beyond it ends the least recently refreshed others'),
  FINGERPRINT_USER_AGENT_POLICY: policy.default('strict').describe('a refresh from another user agent is refused, logged or ignored'),
  FINGERPRINT_IP_POLICY: policy.default('log').describe('a refresh from another network is refused, logged or ignored'),
  FINGERPRINT_IPV4_PREFIX_BITS: z.coerce.number().int().min(0).max(32).default(24).describe('IPv4 network compared for the IP fingerprint'),
  FINGERPRINT_IPV6_PREFIX_BITS: z.coerce
    .number()
    .int()
    .min(0)
    .max(128)
    .default(64)
    .describe('IPv6 network compared for the IP fingerprint'),
  LOCKOUT_SECRET: generatedSecret().describe('HMAC key of lockout key names (Redis never holds a raw email or address)'),
  LOCKOUT_SECRET_PREVIOUS: secret().describe(
    'during a rotation overlap: the previous `LOCKOUT_SECRET` (counts and known addresses move to the new names)',
  ),
  LOCKOUT_PAIR_MAX_FAILURES: positiveInt(5).describe(
    'failures per (email, address) within the window that lock the pair ([lockout](lockout.md))',
  ),
  LOCKOUT_PAIR_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS).describe('window of the pair count'),
  LOCKOUT_BASE_LOCK_MS: positiveInt(FIFTEEN_MINUTES_MS).describe('first lock of a pair; each further lock doubles it'),
  LOCKOUT_MAX_LOCK_MS: positiveInt(DAY_MS).describe('longest pair lock'),
  LOCKOUT_BACKOFF_RESET_MS: positiveInt(DAY_MS).describe('the doubling resets this long after the last lock ends'),
  LOCKOUT_EMAIL_MAX_FAILURES: positiveInt(MAX_CONSECUTIVE_FAILURES).describe(
    `consecutive failures of one email from unknown addresses (since its last success) that lock it for every unknown address; at most ${MAX_CONSECUTIVE_FAILURES} in production (NIST SP 800-63B)`,
  ),
  LOCKOUT_EMAIL_WINDOW_MS: positiveInt(3600 * 1000).describe(
    "how long an account-wide login reservation may stay pending (a crashed process's is freed after it)",
  ),
  LOCKOUT_EMAIL_LOCK_MS: positiveInt(90 * DAY_MS).describe(
    "the account-wide lock ends on a known address's login, a password change or an admin unlock; at most after this",
  ),
  LOCKOUT_IP_MAX_FAILURES: positiveInt(50).describe(
    'failures per address across all emails within the window that block the address (spraying)',
  ),
  LOCKOUT_IP_WINDOW_MS: positiveInt(3600 * 1000).describe('window of the per-address count'),
  LOCKOUT_IP_BLOCK_MS: positiveInt(3600 * 1000).describe('how long a spraying address is blocked'),
  LOCKOUT_KNOWN_ADDRESS_TTL_MS: positiveInt(30 * DAY_MS).describe(
    'an address that logged in successfully stays "known" (exempt from the account-wide lock) this long',
  ),
  LOCKOUT_NOTIFICATION_INTERVAL_MS: positiveInt(3600 * 1000).describe(
    "at most one lock alert email per account per interval; the account-wide lock's email is sent even within it",
  ),
  LOCKOUT_ON_REDIS_ERROR: z
    .enum(['fail-closed', 'fail-open'])
    .default('fail-closed')
    .describe('while Redis is unavailable, logins get 503 + `Retry-After`, or proceed unprotected'),
  // A cutoff beyond what Postgres's timestamps hold (4713 BC) made every retention run fail.
  AUDIT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .positive()
    .max(36_500)
    .default(400)
    .describe('security events older than this are deleted from the audit trail (in batches); at most 36500 (100 years)'),
  AUDIT_RETENTION_INTERVAL_MS: timerMs(3600 * 1000).describe('how often the retention job runs'),
  AUDIT_BUFFER_MAX: positiveInt(10_000).describe(
    'events held in memory while Postgres cannot take them; beyond it the oldest are dropped and counted',
  ),
  AUDIT_FLUSH_INTERVAL_MS: timerMs(200).describe('events are written in batches this often'),
  PASSWORD_CHANGE_MAX_FAILURES: positiveInt(5).describe(
    'wrong current passwords a session may try in a password change before it is ended',
  ),
  SMTP_URL: url(['smtp', 'smtps'])
    .optional()
    .describe(
      '`smtp://user:pass@host:port` (or `smtps://`) for lock alert emails; off when unset. With a user or password, `smtp://` must upgrade with STARTTLS or sends nothing (`?requireTLS=false` for a relay on the same host)',
    ),
  SMTP_FROM: z.string().default('Security <no-reply@localhost>').describe('sender of lock alert emails'),
  // Registered at start-up like any account: an address registration refuses could never sign in
  // (login validates it too) or never receive a lock email, and that would show only when needed.
  BOOTSTRAP_ADMIN_EMAIL: z
    .string()
    .refine(isNewAccountEmail, 'must be an address registration accepts (see security.md)')
    .optional()
    .describe('first admin, created at start-up if missing (an address registration accepts)'),
  // Counted like the DTO counts (code points of the NFC form): `.min()` counts UTF-16 units, so
  // eight emoji would pass as sixteen characters.
  BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .refine(hasAcceptablePasswordLength, PASSWORD_LENGTH_MESSAGE)
    .optional()
    .describe(
      `the first admin's password (${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters, counted as at registration: checked at every start, even once the admin exists); a password the [password policy](password-policy.md) refuses stops the start that would create the admin (an existing admin's password is neither checked against the policy nor changed)`,
    ),
  PASSWORD_CONTEXT_WORDS: z
    .string()
    .default('nest-security-hardening')
    .transform((v) =>
      v
        .split(',')
        .map((w) => w.trim())
        .filter((w) => w.length > 0),
    )
    .describe(
      "product names a password must not contain besides the user's email (comma-separated; words under 4 letters or digits are ignored)",
    ),
  PASSWORD_BREACH_API_URL: url(['http', 'https'])
    .optional()
    .describe('base URL of a Pwned Passwords-compatible range API (`GET <url>/range/<5 hex>`); no breach check when unset'),
  PASSWORD_BREACH_API_TIMEOUT_MS: timerMs(2000).describe(
    'the breach check fails open after this long (the password is accepted and an event is emitted)',
  ),
  ...rateLimitBudget('ADMIN', {
    limit: 100,
    onRedisError: 'memory',
    meaning: 'per-admin budget of the account administration routes (`/accounts/*`)',
  }),
  DOCS_ENABLED: optionalBool()
    .meta({ defaultText: '`true`, `false` in production' })
    .describe('serve the OpenAPI page at `/docs` (the gateway reads it to compose its own)'),
  // Same names and defaults as the gateway's: enforced here for requests without a valid gateway signature.
  ...rateLimitBudget('AUTH', {
    limit: 5,
    onRedisError: 'fail-closed',
    meaning: "the gateway's login budget, enforced here for requests that do not come through the gateway",
  }),
  ...rateLimitBudget('REFRESH', {
    limit: 30,
    onRedisError: 'fail-closed',
    meaning: "the gateway's refresh budget, enforced here for requests that do not come through the gateway",
  }),
  // Moved off the login budget so that junk cannot spend a neighbour's logins.
  RATE_LIMIT_MALFORMED_LIMIT: positiveInt(50).describe('per-address budget of credential requests refused as malformed (400, 413, 415)'),
  RATE_LIMIT_MALFORMED_WINDOW_MS: positiveInt(FIFTEEN_MINUTES_MS).describe('window of the malformed budget'),
  ...rateLimitBudget('REGISTRATION', {
    limit: 100,
    onRedisError: 'memory',
    meaning: 'registrations across all clients: bounds how fast anyone can learn which emails have an account',
  }),
};

// The account-wide ceiling is the only bound for an attacker who rotates addresses; outside
// production, suites about something else raise it out of their way.
const authServiceEnv = z.object(authServiceEnvShape).superRefine((env, ctx) => {
  if (env.NODE_ENV === 'production' && env.LOCKOUT_EMAIL_MAX_FAILURES > MAX_CONSECUTIVE_FAILURES) {
    ctx.addIssue({
      code: 'custom',
      path: ['LOCKOUT_EMAIL_MAX_FAILURES'],
      message: `must be at most ${MAX_CONSECUTIVE_FAILURES} in production (NIST SP 800-63B: no more than ${MAX_CONSECUTIVE_FAILURES} consecutive failed attempts per account)`,
    });
  }
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
  checkPreviousSecrets(
    'auth-service',
    parsed,
    {
      REFRESH_TOKEN_SECRET: [values.REFRESH_TOKEN_SECRET, parsed.REFRESH_TOKEN_SECRET_PREVIOUS],
      FINGERPRINT_SECRET: [values.FINGERPRINT_SECRET, parsed.FINGERPRINT_SECRET_PREVIOUS],
      LOCKOUT_SECRET: [values.LOCKOUT_SECRET, parsed.LOCKOUT_SECRET_PREVIOUS],
      GATEWAY_SECRET: [values.GATEWAY_SECRET, parsed.GATEWAY_SECRET_PREVIOUS],
    },
    values,
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
    docsEnabled: docsEnabled(parsed),
  };
}

export const AUTH_SERVICE_CONFIG = Symbol('AUTH_SERVICE_CONFIG');
