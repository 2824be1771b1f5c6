import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigValidationError } from './config-validation.error';
import { LocalOnlySecretsError, MissingSecretsError } from './missing-secrets.error';
import { resolveSecrets } from './resolve-secrets';

describe('resolveSecrets', () => {
  let dir: string;
  let keysDir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sec-secrets-'));
    keysDir = join(dir, 'keys');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('in production, names every missing secret in one single-line error and writes nothing', () => {
    let error: unknown;
    try {
      resolveSecrets('auth-service', { NODE_ENV: 'production', KEYS_DIR: keysDir }, { A_SECRET: undefined, B_SECRET: 'set', C_KEY: '' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingSecretsError);
    expect((error as MissingSecretsError).names).toEqual(['A_SECRET', 'C_KEY']);
    expect((error as Error).message).toMatch(/^missing required settings in production: A_SECRET, C_KEY\b[^\n]*$/);
    expect(existsSync(keysDir)).toBe(false);
  });

  it('in production, refuses the secret values published in docker-compose.yml, which development accepts', () => {
    const compose = readFileSync(join(__dirname, '../../../docker-compose.yml'), 'utf8');
    const published = Object.fromEntries([...compose.matchAll(/^\s+([A-Z_]+_SECRET): (\S+)$/gm)].map(([, name, value]) => [name, value]));
    expect(Object.keys(published).sort()).toEqual(['GATEWAY_SECRET', 'PSEUDONYM_SECRET']);
    expect(() => resolveSecrets('api-gateway', { NODE_ENV: 'production', KEYS_DIR: keysDir }, published)).toThrow(LocalOnlySecretsError);
    expect(resolveSecrets('api-gateway', { NODE_ENV: 'development', KEYS_DIR: keysDir }, published).values).toEqual(published);
  });

  it('in production, returns the configured values when all are set', () => {
    expect(resolveSecrets('app', { NODE_ENV: 'production', KEYS_DIR: keysDir }, { A_SECRET: 'a', B_SECRET: 'b' })).toEqual({
      values: { A_SECRET: 'a', B_SECRET: 'b' },
      generated: [],
    });
    expect(existsSync(keysDir)).toBe(false);
  });

  // The gateway and profile-service hold GATEWAY_SECRET: set to the refresh-token secret too, it
  // handed them the key that makes refresh tokens.
  it('in production, refuses one value set for two secrets, naming them without the value', () => {
    const shared = 'one-value-for-two-purposes-of-32-characters';
    const given = { REFRESH_TOKEN_SECRET: shared, LOCKOUT_SECRET: 'l', GATEWAY_SECRET: shared };
    const refuse = () => resolveSecrets('auth-service', { NODE_ENV: 'production', KEYS_DIR: keysDir }, given);
    expect(refuse).toThrow(ConfigValidationError);
    expect(refuse).toThrow('REFRESH_TOKEN_SECRET and GATEWAY_SECRET: must differ');
    expect(refuse).not.toThrow(shared);
    expect(resolveSecrets('auth-service', { NODE_ENV: 'test', KEYS_DIR: keysDir }, given).values).toEqual(given);
  });

  // METRICS_TOKEN is handed to every scraper (Prometheus's configuration, its operators): set to
  // GATEWAY_SECRET it let them sign the client address the services believe.
  it('in production, refuses a METRICS_TOKEN equal to a secret, naming both without the value', () => {
    const shared = 'one-value-for-two-purposes-of-32-characters';
    const given = { PSEUDONYM_SECRET: 'p', GATEWAY_SECRET: shared };
    const production = { NODE_ENV: 'production' as const, KEYS_DIR: keysDir, METRICS_TOKEN: shared };
    const refuse = () => resolveSecrets('api-gateway', production, given);
    expect(refuse).toThrow(ConfigValidationError);
    expect(refuse).toThrow('METRICS_TOKEN and GATEWAY_SECRET: must differ');
    expect(refuse).not.toThrow(shared);
    expect(resolveSecrets('api-gateway', { ...production, METRICS_TOKEN: `metrics-${shared}` }, given).values).toEqual(given);
  });

  it('outside production, generates the missing ones once in KEYS_DIR (owner-only) and reports them', () => {
    const given = { A_SECRET: undefined, B_SECRET: 'b', C_KEY: undefined };
    const dev = { C_KEY: { file: 'c.pem', create: () => 'PEM' } };
    const first = resolveSecrets('app', { NODE_ENV: 'development', KEYS_DIR: keysDir }, given, dev);
    expect(first.generated).toEqual(['A_SECRET', 'C_KEY']);
    expect(first.values.B_SECRET).toBe('b');
    expect(first.values.A_SECRET).toMatch(/^[\w-]{43}$/);
    expect(first.values.C_KEY).toBe('PEM');
    expect(readdirSync(keysDir).sort()).toEqual(['a_secret', 'c.pem']);
    expect(statSync(join(keysDir, 'a_secret')).mode & 0o077).toBe(0);
    // A restart (or another service sharing the folder) reads the same values back.
    expect(resolveSecrets('app', { NODE_ENV: 'test', KEYS_DIR: keysDir }, given, dev).values).toEqual(first.values);
  });
});
