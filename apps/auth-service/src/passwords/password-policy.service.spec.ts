import { SecurityEvents } from '@nest-hardening/security-events';
import { freePort, startBreachedPasswordsStub, TEST_PASSWORD } from '@nest-hardening/testing';

import type { AuthServiceConfig } from '../config/auth-service.config';
import { PasswordBlocklist } from './password-blocklist';
import { PASSWORD_MIN_LENGTH } from './password-length';
import { PasswordPolicy } from './password-policy.service';
import { WeakPasswordError } from './weak-password.error';

function policyWith(settings: Partial<AuthServiceConfig> = {}) {
  const events = new SecurityEvents({ service: 'auth-service', pseudonymKey: 'k'.repeat(32) });
  const config = {
    PASSWORD_CONTEXT_WORDS: ['nest-security-hardening'],
    PASSWORD_BREACH_API_TIMEOUT_MS: 2000,
    ...settings,
  } as AuthServiceConfig;
  return { policy: new PasswordPolicy(config, events), events };
}

/** The error code the policy refuses `password` with, or 'accepted'. */
async function verdict(policy: PasswordPolicy, password: string, email = 'someone@example.com', currentPassword?: string): Promise<string> {
  try {
    await policy.assertAcceptable(password, { email, currentPassword });
    return 'accepted';
  } catch (error) {
    if (error instanceof WeakPasswordError) return error.code;
    throw error;
  }
}

describe('PasswordBlocklist', () => {
  const list = PasswordBlocklist.load(PASSWORD_MIN_LENGTH);

  it('is built from a list of at least 100,000 common and breached passwords', () => {
    expect(list.sourceSize).toBeGreaterThanOrEqual(100_000);
  });

  it('finds listed passwords whatever their case or compatibility spelling', () => {
    for (const password of [
      'manchesterunited',
      'MANCHESTERUNITED',
      'ManchesterUnited',
      'ｍａｎｃｈｅｓｔｅｒｕｎｉｔｅｄ',
      'qwerty123456789',
      '30secondstomars',
      '1qaz2wsx3edc4rfv',
    ]) {
      expect({ password, listed: list.has(password) }).toEqual({ password, listed: true });
    }
    expect(list.has(TEST_PASSWORD)).toBe(false);
  });
});

describe('PasswordPolicy', () => {
  const { policy } = policyWith();

  it.each([
    ['manchesterunited', 'password_common'],
    ['30secondstomars', 'password_common'],
    ['aaaaaaaaaaaaaaa', 'password_pattern'],
    [' '.repeat(15), 'password_pattern'],
    ['123456789012345', 'password_pattern'],
    ['abcabcabcabcabc', 'password_pattern'],
    ['ada.lovelace@example.com', 'password_email'],
    ['my login is ada.lovelace@example.com', 'password_email'],
    ['Ada-Lovelace 1815!', 'password_email_name'],
    ['ADALOVELACE-is-great', 'password_email_name'],
    ['my nest security hardening pw', 'password_service_name'],
  ])('refuses %j with %s', async (password, code) => {
    expect(await verdict(policy, password, 'ada.lovelace@example.com')).toBe(code);
  });

  it('says why in words a person understands', async () => {
    await expect(policy.assertAcceptable('manchesterunited', { email: 'x@example.com' })).rejects.toThrow(
      /one of the most commonly used passwords/,
    );
    await expect(policy.assertAcceptable('aaaaaaaaaaaaaaa', { email: 'x@example.com' })).rejects.toThrow(/repeated or sequential pattern/);
    await expect(policy.assertAcceptable('bob@example.com!', { email: 'bob@example.com' })).rejects.toThrow(
      /must not contain your email address/,
    );
    await expect(policy.assertAcceptable('robert the builder', { email: 'Robert@example.com' })).rejects.toThrow(/part before the @/);
  });

  it('ignores a local part under four letters, but not the whole email', async () => {
    expect(await verdict(policy, 'ada loves her engines', 'ada@example.com')).toBe('accepted');
    expect(await verdict(policy, 'ada@example.com 1815', 'ada@example.com')).toBe('password_email');
  });

  it('refuses a new password equal to the current one, in any Unicode spelling', async () => {
    const nfd = 'caf\u0065\u0301 au lait au lit';
    expect(await verdict(policy, nfd.normalize('NFC'), 'x@example.com', nfd)).toBe('password_unchanged');
    expect(await verdict(policy, 'Correct Horse Battery Staple', 'x@example.com', TEST_PASSWORD)).toBe('accepted');
  });

  it('uses the configured service words', async () => {
    const { policy: custom } = policyWith({ PASSWORD_CONTEXT_WORDS: ['AcmePay', 'pay'] });
    expect(await verdict(custom, 'i love acme-pay so much')).toBe('password_service_name');
    // Words under four letters are ignored: 'pay' would refuse 'paying the rent late'.
    expect(await verdict(custom, 'paying the rent late')).toBe('accepted');
  });

  it('refuses an admin password that spells out its email name', async () => {
    expect(await verdict(policy, 'lockout admin password', 'lockout-admin@example.com')).toBe('password_email_name');
  });

  it("accepts every password the project's tests and examples use, with the emails they use", async () => {
    const used: [string, string][] = [
      [TEST_PASSWORD, 'user-0123456789@example.com'],
      ['bootstrap admin password', 'Root@Example.com'],
      ['admin password for fuzzing', 'fuzz-admin@example.com'],
      ['admin password for ratelimit', 'ratelimit-admin@example.com'],
      ['admin password for lockout', 'lockout-admin@example.com'],
      ['admin password for backoff', 'backoff-admin@example.com'],
      ['a long enough password', 'user-0123456789@example.com'],
      ['another long password', 'user-0123456789@example.com'],
      ['a brand new long password', 'user-0123456789@example.com'],
      ['a benchmark password of some length', 'bench-0123456789@example.com'],
    ];
    for (const [password, email] of used)
      expect({ password, verdict: await verdict(policy, password, email) }).toEqual({ password, verdict: 'accepted' });
  });

  it('asks the breach API when one is configured, and fails open with an event when it is unreachable', async () => {
    const stub = await startBreachedPasswordsStub(['a once secret passphrase']);
    try {
      const { policy: checked } = policyWith({ PASSWORD_BREACH_API_URL: stub.url });
      expect(await verdict(checked, 'a once secret passphrase')).toBe('password_breached');
      expect(await verdict(checked, 'a still secret passphrase')).toBe('accepted');
    } finally {
      await stub.close();
    }
    const { policy: unreachable, events } = policyWith({ PASSWORD_BREACH_API_URL: `http://127.0.0.1:${await freePort()}` });
    const emit = jest.spyOn(events, 'emit');
    expect(await verdict(unreachable, 'a once secret passphrase')).toBe('accepted');
    expect(emit).toHaveBeenCalledWith(
      expect.objectContaining({ type: 'password_breach_check_unavailable', details: { reason: 'unreachable' } }),
    );
    expect(JSON.stringify(emit.mock.calls)).not.toContain('secret passphrase');
  });
});
