import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigValidationError, type Env } from '@nest-hardening/config';

import { loadApiGatewayConfig } from '../../apps/api-gateway/src/config/api-gateway.config';
import { parseAuthServiceEnv } from '../../apps/auth-service/src/config/auth-service.config';
import { parseProfileServiceEnv } from '../../apps/profile-service/src/config/profile-service.config';

/**
 * Node runs a timer of more than 2^31 - 1 ms (about 24.8 days) after 1 ms (TimeoutOverflowWarning),
 * and so do setInterval, AbortSignal.timeout, socket timeouts, ioredis' commandTimeout and pg's
 * query_timeout. A setting that arms such a timer must be refused above it, by name, at start-up:
 * AUDIT_RETENTION_INTERVAL_MS=2592000000 ("monthly") would otherwise run the retention DELETE every
 * millisecond, PASSWORD_BREACH_API_TIMEOUT_MS=3000000000 turns the breach check off (it times out at
 * once and fails open), REDIS_COMMAND_TIMEOUT_MS or UPSTREAM_TIMEOUT_MS fail every request.
 */
describe('settings that arm a Node timer', () => {
  const TOO_LONG = String(2 ** 31); // 2147483648 ms
  let keysDir: string;

  beforeAll(() => {
    keysDir = mkdtempSync(join(tmpdir(), 'sec-config-limits-'));
  });
  afterAll(() => rmSync(keysDir, { recursive: true, force: true }));

  const refusal = (load: () => unknown): string => {
    try {
      load();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigValidationError);
      return (error as Error).message;
    }
    return '(accepted)';
  };
  const gateway = (env: Env) => loadApiGatewayConfig({ KEYS_DIR: keysDir, ...env });

  it.each([
    'REDIS_COMMAND_TIMEOUT_MS',
    'DATABASE_QUERY_TIMEOUT_MS',
    'AUDIT_RETENTION_INTERVAL_MS',
    'AUDIT_FLUSH_INTERVAL_MS',
    'PASSWORD_BREACH_API_TIMEOUT_MS',
  ] as const)('auth-service refuses %s above 2^31 - 1 ms, naming it', (name) => {
    expect(refusal(() => parseAuthServiceEnv({ [name]: TOO_LONG }))).toContain(`${name}:`);
    expect(parseAuthServiceEnv({ [name]: String(2 ** 31 - 1) })[name]).toBe(2 ** 31 - 1);
  });

  it.each(['UPSTREAM_TIMEOUT_MS', 'UPSTREAM_CLIENT_STALL_MS', 'UPSTREAM_IDLE_TIMEOUT_MS', 'REDIS_COMMAND_TIMEOUT_MS'] as const)(
    'api-gateway refuses %s above 2^31 - 1 ms, naming it',
    (name) => {
      expect(refusal(() => gateway({ [name]: TOO_LONG }))).toContain(`${name}:`);
      expect(gateway({ [name]: String(2 ** 31 - 1) })[name]).toBe(2 ** 31 - 1);
    },
  );

  it('profile-service refuses DATABASE_QUERY_TIMEOUT_MS above 2^31 - 1 ms, naming it', () => {
    expect(refusal(() => parseProfileServiceEnv({ DATABASE_QUERY_TIMEOUT_MS: TOO_LONG }))).toContain('DATABASE_QUERY_TIMEOUT_MS:');
  });
});

// The retention job deletes events older than now minus AUDIT_RETENTION_DAYS: a cutoff before what
// Postgres's timestamps hold (4713 BC) failed every run, and with it the clean-up of expired lock rows.
describe('AUDIT_RETENTION_DAYS', () => {
  it('is refused beyond 100 years, naming it', () => {
    expect(() => parseAuthServiceEnv({ AUDIT_RETENTION_DAYS: '10000000' })).toThrow(/AUDIT_RETENTION_DAYS: /);
    expect(parseAuthServiceEnv({ AUDIT_RETENTION_DAYS: '36500' }).AUDIT_RETENTION_DAYS).toBe(36_500);
  });
});
