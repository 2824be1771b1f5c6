import { Logger } from '@nestjs/common';

import { SENTRY_EVENTS_PER_RULE_PER_MINUTE } from '@nest-hardening/security-events';
import { startSentryReceiver, type SentryReceiver } from '@nest-hardening/testing';

import { startLoginTestApp, type LoginTestApp } from '../test/support/login-test-app';

// Own spec file: @sentry/nestjs keeps one client per process, initialised by the first SecurityEvents with a DSN.
jest.setTimeout(20_000);

describe('account_locked reaches Sentry pseudonymised', () => {
  let sentry: SentryReceiver;
  let t: LoginTestApp;

  beforeAll(async () => {
    sentry = await startSentryReceiver();
    t = await startLoginTestApp({ baseLockMs: 1_000 }, [], sentry.dsn);
  });
  afterAll(async () => {
    await t?.close();
    await sentry?.close();
  });

  it('sends an account_locked event that contains neither the raw email nor the raw IP', async () => {
    const email = 'sentry-victim@example.com';
    const ip = '203.0.113.77';
    for (let i = 0; i < 5; i++) expect((await t.login(email, 'wrong', ip)).status).toBe(401);
    await t.events.flush();

    const envelope = await sentry.waitFor((e) => e.raw.includes('account_locked'));

    expect(envelope.raw).toContain('pair');
    expect(envelope.raw).toContain(t.events.pseudonymize(email));
    expect(envelope.raw.toLowerCase()).not.toContain(email);
    expect(envelope.raw).not.toContain(ip);
  });

  it('groups a wave of locks into one issue and sends Sentry a bounded number of its events, the log all of them', async () => {
    // Each lock costs the attacker five guesses from one address; with addresses to spare, one event
    // per lock would spend the Sentry quota, and a spent quota (429) makes the SDK drop real errors too.
    const locks = SENTRY_EVENTS_PER_RULE_PER_MINUTE + 5;
    const logged = jest.spyOn(Logger.prototype, 'warn');
    try {
      for (let n = 0; n < locks; n++) {
        for (let i = 0; i < 5; i++) expect((await t.login(`sentry-wave-${n}@example.com`, 'wrong', `198.51.100.${n}`)).status).toBe(401);
      }
      await t.events.flush();
      const lockEvents = sentry.envelopes.filter((e) => e.raw.includes('"account_locked: pair"'));
      expect(lockEvents.length).toBe(SENTRY_EVENTS_PER_RULE_PER_MINUTE);
      const fingerprints = lockEvents.map((e) => e.items.map((item) => (item as { fingerprint?: unknown }).fingerprint).find(Boolean));
      expect(new Set(fingerprints.map((f) => JSON.stringify(f)))).toEqual(
        new Set([JSON.stringify(['security-event', 'account_locked', 'pair'])]),
      );
      const lockLines = logged.mock.calls.filter(([line]) => (line as { securityEvent?: string }).securityEvent === 'account_locked');
      expect(lockLines).toHaveLength(locks);
    } finally {
      logged.mockRestore();
    }
  });
});
