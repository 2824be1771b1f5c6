import { Logger } from '@nestjs/common';

import { startSentryReceiver, type SentryReceiver } from '@nest-hardening/testing';

import { SENTRY_EVENTS_PER_RULE_PER_DAY, SENTRY_EVENTS_PER_RULE_PER_MINUTE } from './security-event-sentry.sink';
import { SecurityEvents } from './security-events.service';

// Own spec file: @sentry/nestjs keeps one client per process, initialised by the first SecurityEvents with a DSN.
jest.setTimeout(30_000);

const MINUTE_MS = 60_000;

/**
 * An attacker who keeps causing locks, minute after minute (each lock costs five guesses from one of
 * their addresses): Sentry's quota is monthly and shared with the application's own errors.
 */
describe("Sentry's share of a security event kept up all day", () => {
  let sentry: SentryReceiver;
  let events: SecurityEvents;
  let now: number;
  const logged = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

  beforeAll(async () => {
    sentry = await startSentryReceiver();
    events = new SecurityEvents({ service: 'budget-test', pseudonymKey: 'k', sentryDsn: sentry.dsn });
    now = performance.now();
    jest.spyOn(performance, 'now').mockImplementation(() => now);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await sentry?.close();
  });

  const sent = (rule: string): number => sentry.envelopes.filter((e) => e.raw.includes(`"account_locked: ${rule}"`)).length;

  /** The most the minute's cap lets through, every minute for `minutes` minutes. */
  async function lockEveryMinute(rule: string, minutes: number): Promise<void> {
    for (let m = 0; m < minutes; m++) {
      for (let i = 0; i < SENTRY_EVENTS_PER_RULE_PER_MINUTE; i++) events.emit({ type: 'account_locked', severity: 'warning', rule });
      await events.flush(); // within the SDK's buffer of 64
      now += MINUTE_MS;
    }
  }

  it("sends at most SENTRY_EVENTS_PER_RULE_PER_DAY of one rule a day, the log every one, and leaves other rules' alerts alone", async () => {
    const minutes = SENTRY_EVENTS_PER_RULE_PER_DAY / SENTRY_EVENTS_PER_RULE_PER_MINUTE + 5;
    await lockEveryMinute('pair', minutes);
    expect(sent('pair')).toBe(SENTRY_EVENTS_PER_RULE_PER_DAY);
    const lockLines = logged.mock.calls.filter(([line]) => (line as { securityEvent?: string }).securityEvent === 'account_locked');
    expect(lockLines).toHaveLength(minutes * SENTRY_EVENTS_PER_RULE_PER_MINUTE);

    // Another rule's alert still gets through on the same day.
    events.emit({ type: 'account_locked', severity: 'warning', rule: 'other' });
    await events.flush();
    expect(sent('other')).toBe(1);
  });

  it('sends the rule again the next day', async () => {
    const before = sent('pair');
    now += 24 * 60 * MINUTE_MS;
    await lockEveryMinute('pair', 1);
    expect(sent('pair')).toBe(before + SENTRY_EVENTS_PER_RULE_PER_MINUTE);
  });
});
