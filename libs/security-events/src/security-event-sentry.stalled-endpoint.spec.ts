import { Logger } from '@nestjs/common';

import { startSentryReceiver, startTcpRelay, type SentryReceiver, type TcpRelay } from '@nest-hardening/testing';

import { SecurityEvents } from './security-events.service';
import { SENTRY_REQUEST_TIMEOUT_MS } from './sentry-request-timeout';

// Own spec file: @sentry/nestjs keeps one client per process, initialised by the first SecurityEvents with a DSN.
jest.setTimeout(30_000);

/**
 * Sentry's endpoint accepts connections and never answers for a while (ingest overloaded, a proxy
 * black-holing traffic), during a burst of alerts, then recovers: alerts must get through again.
 */
describe('Sentry sink after its endpoint stalled during a burst of alerts', () => {
  let sentry: SentryReceiver;
  let relay: TcpRelay;
  let events: SecurityEvents;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    sentry = await startSentryReceiver();
    relay = await startTcpRelay(Number(new URL(sentry.dsn).port));
    const dsn = new URL(sentry.dsn);
    dsn.port = String(relay.port);
    events = new SecurityEvents({ service: 'stall-test', pseudonymKey: 'k', sentryDsn: dsn.toString() });
  });

  afterAll(async () => {
    await relay?.close();
    await sentry?.close();
  });

  it('delivers alerts again once the endpoint answers again', async () => {
    relay.silence();
    // More alerts than the SDK's 30 sockets and 64 buffer slots.
    for (let i = 0; i < 100; i++) events.emit({ type: 'account_locked', severity: 'warning', rule: `during-stall-${i}` });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    relay.heal();
    // The requests under way fail at their deadline and free their sockets and slots.
    await new Promise((resolve) => setTimeout(resolve, SENTRY_REQUEST_TIMEOUT_MS));
    events.emit({ type: 'ip_spraying_blocked', severity: 'critical', rule: 'after-recovery' });
    const envelope = await sentry.waitFor((e) => e.raw.includes('after-recovery'), 5_000);
    expect(envelope.raw).toContain('ip_spraying_blocked');
  });
});
