import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigValidationError, LocalOnlySecretsError, type Env } from '@nest-hardening/config';

import { createDevSigningKey } from '../keys/dev-signing-key';
import { loadAuthServiceConfig, parseAuthServiceEnv } from './auth-service.config';

const SECRET = 'a-rotated-secret-of-at-least-32-characters';
const OTHER = 'another-secret-of-at-least-32-characters!';
/** The value docker-compose.yml publishes. */
const PUBLISHED_GATEWAY_SECRET = 'local-only-gateway-secret-do-not-deploy-0000';

describe('loadAuthServiceConfig: previous values of rotated secrets', () => {
  let keysDir: string;
  beforeEach(() => {
    keysDir = mkdtempSync(join(tmpdir(), 'sec-auth-config-'));
  });
  afterEach(() => rmSync(keysDir, { recursive: true, force: true }));

  const load = (env: Env) => loadAuthServiceConfig({ KEYS_DIR: keysDir, ...env });

  // With LOCKOUT_SECRET_PREVIOUS = LOCKOUT_SECRET every login attempt moved the lockout state onto its
  // own names and erased it: no pair, account or address was ever locked.
  it.each(['LOCKOUT_SECRET', 'REFRESH_TOKEN_SECRET', 'FINGERPRINT_SECRET', 'GATEWAY_SECRET'])(
    'refuses to start when %s_PREVIOUS equals it, naming the variable without its value',
    (name) => {
      const error = captureError(() => load({ [name]: SECRET, [`${name}_PREVIOUS`]: SECRET }));
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect(error.message).toContain(`${name}_PREVIOUS: must differ from ${name}`);
      expect(error.message).not.toContain(SECRET);
    },
  );

  it('compares with the development value when the secret itself is generated', () => {
    load({});
    const generated = readFileSync(join(keysDir, 'lockout_secret'), 'utf8').trim();
    expect(() => load({ LOCKOUT_SECRET_PREVIOUS: generated })).toThrow(/LOCKOUT_SECRET_PREVIOUS: must differ/);
  });

  /** A production environment with every secret set, one value per purpose (production refuses a value set for two). */
  const productionEnv = () => ({
    NODE_ENV: 'production',
    JWT_PRIVATE_KEY: createDevSigningKey(),
    REFRESH_TOKEN_SECRET: `refresh-${SECRET}`,
    FINGERPRINT_SECRET: `fingerprint-${SECRET}`,
    PSEUDONYM_SECRET: `pseudonym-${SECRET}`,
    LOCKOUT_SECRET: `lockout-${SECRET}`,
    GATEWAY_SECRET: `gateway-${SECRET}`,
  });

  // A previous value verifies as much as the current one: with the published one, anyone could sign
  // the forwarded client address the services believe, in production.
  it('refuses in production a previous value published in docker-compose.yml, as it refuses the secret itself', () => {
    const production = { ...productionEnv(), GATEWAY_SECRET: SECRET };
    expect(load(production).secrets.gateway).toBe(SECRET);
    const error = captureError(() => load({ ...production, GATEWAY_SECRET_PREVIOUS: PUBLISHED_GATEWAY_SECRET }));
    expect(error).toBeInstanceOf(LocalOnlySecretsError);
    expect(error.message).toContain('GATEWAY_SECRET_PREVIOUS');
    expect(error.message).not.toContain(PUBLISHED_GATEWAY_SECRET);
  });

  // One key per purpose holds for previous values too: REFRESH_TOKEN_SECRET_PREVIOUS set to the
  // GATEWAY_SECRET let the gateway and profile-service, which hold that value, mint refresh tokens.
  it.each([
    ['REFRESH_TOKEN_SECRET_PREVIOUS', 'GATEWAY_SECRET'],
    ['GATEWAY_SECRET_PREVIOUS', 'REFRESH_TOKEN_SECRET'],
    ['LOCKOUT_SECRET_PREVIOUS', 'PSEUDONYM_SECRET'],
    ['FINGERPRINT_SECRET_PREVIOUS', 'REFRESH_TOKEN_SECRET_PREVIOUS'],
  ])('refuses in production %s set to the value of %s, naming both without the value', (previous, other) => {
    const production = { ...productionEnv(), REFRESH_TOKEN_SECRET_PREVIOUS: `previous-refresh-${SECRET}` };
    const env: Env = { ...production, [previous]: production[other as keyof typeof production] };
    const error = captureError(() => load(env));
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error.message).toMatch(new RegExp(`\\b(${previous} and ${other}|${other} and ${previous}): must differ`));
    expect(error.message).not.toContain(SECRET);
    expect(load({ ...env, NODE_ENV: 'test' }).secrets.refreshToken).toBe(production.REFRESH_TOKEN_SECRET);
  });

  it('accepts a previous value that differs, as during a rotation', () => {
    const config = load({ LOCKOUT_SECRET: SECRET, LOCKOUT_SECRET_PREVIOUS: OTHER });
    expect(config.previousSecrets.lockout).toBe(OTHER);
  });
});

// NIST SP 800-63B: the verifier SHALL limit consecutive failed attempts on one account to no more
// than 100. The account-wide ceiling is the only bound for an attacker who rotates addresses, so
// a production start with a higher one ran without that bound, and said nothing.
describe('parseAuthServiceEnv: LOCKOUT_EMAIL_MAX_FAILURES', () => {
  it('refuses more than 100 consecutive failures per account in production, naming it', () => {
    const error = captureError(() => parseAuthServiceEnv({ NODE_ENV: 'production', LOCKOUT_EMAIL_MAX_FAILURES: '101' }));
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error.message).toContain('LOCKOUT_EMAIL_MAX_FAILURES: must be at most 100 in production');
    expect(parseAuthServiceEnv({ NODE_ENV: 'production', LOCKOUT_EMAIL_MAX_FAILURES: '100' }).LOCKOUT_EMAIL_MAX_FAILURES).toBe(100);
    // Suites about something else take lockout out of their way outside production.
    expect(parseAuthServiceEnv({ NODE_ENV: 'test', LOCKOUT_EMAIL_MAX_FAILURES: '10000000' }).LOCKOUT_EMAIL_MAX_FAILURES).toBe(10_000_000);
  });
});

describe('parseAuthServiceEnv: BOOTSTRAP_ADMIN_PASSWORD', () => {
  const bootstrap = (password: string) => parseAuthServiceEnv({ BOOTSTRAP_ADMIN_PASSWORD: password }).BOOTSTRAP_ADMIN_PASSWORD;

  // The admin is registered through the same policy as anyone: a value the DTO would refuse must stop
  // start-up here, by name, rather than pass a check that counts UTF-16 units.
  it('counts code points of the NFC form, as registration does: 15 to 128', () => {
    const emoji = '🔐🐢🌵🚲🎻🧭🍋🦉🌋🧲🎈🪁🪐🎸🦊';
    for (const accepted of ['violet lanterns', emoji, emoji.repeat(9).slice(0, 2 * 128)])
      expect({ accepted, parsed: bootstrap(accepted) }).toEqual({ accepted, parsed: accepted });
    for (const refused of ['violet lantern', emoji.slice(0, 2 * 8), 'áéíóúýàè'.normalize('NFD'), 'x'.repeat(129)]) {
      const error = captureError(() => bootstrap(refused));
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect(error.message).toContain('BOOTSTRAP_ADMIN_PASSWORD: password must be 15 to 128 characters long');
      expect(error.message).not.toContain(refused);
    }
  });
});

describe('parseAuthServiceEnv: BOOTSTRAP_ADMIN_EMAIL', () => {
  // The admin is an account registered at start-up: an address registration refuses could never sign
  // in (400 at login) or never receive a lock email, and it would only show once that was needed.
  it('refuses, naming it, an address registration would refuse', () => {
    for (const refused of ['ops@b-.example.com', 'ops@xn--a.example.com', `${'o'.repeat(250)}@example.com`]) {
      const error = captureError(() => parseAuthServiceEnv({ BOOTSTRAP_ADMIN_EMAIL: refused }));
      expect({ refused, error: error?.message }).toEqual({ refused, error: expect.stringContaining('BOOTSTRAP_ADMIN_EMAIL: ') });
    }
    expect(parseAuthServiceEnv({ BOOTSTRAP_ADMIN_EMAIL: 'Ops@Example.com' }).BOOTSTRAP_ADMIN_EMAIL).toBe('Ops@Example.com');
  });
});

function captureError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}
