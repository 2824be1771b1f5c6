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
});
