import type * as SentrySdk from '@sentry/nestjs';

import type { Pseudonymizer } from './pseudonymizer';
import { securityEventReport } from './security-event-report';
import type { SecurityEventSink } from './security-event-sink.interface';
import type { SecurityEvent } from './security-event.interface';
import { sentryHttpModule } from './sentry-request-timeout';

const SENTRY_LEVEL = { info: 'info', warning: 'warning', critical: 'error' } as const;

/**
 * Events of one type and rule this process sends to Sentry per minute; the rest go to the log only.
 * Attackers choose how many locks and refusals they cause: one event each would spend the Sentry
 * quota, and once Sentry answers 429 the SDK drops every error, the application's own included.
 */
export const SENTRY_EVENTS_PER_RULE_PER_MINUTE = 10;

/**
 * Events of one type and rule this process sends to Sentry per day. The minute's cap alone lets an
 * attack kept up all day send 14,400 events of each rule it can cause, enough to spend a monthly
 * quota within days; past the first waves, more events of an open issue tell Sentry nothing new.
 */
export const SENTRY_EVENTS_PER_RULE_PER_DAY = 100;

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** One rule's spending: when its current minute and day began, and what each has sent. */
interface RuleBudget {
  minuteSince: number;
  inMinute: number;
  daySince: number;
  inDay: number;
}

/** Settings of {@link SentrySecurityEventSink}. */
export interface SentrySinkOptions {
  dsn: string;
  service: string;
  environment?: string;
}

/**
 * Sends security events (pseudonymised) and unexpected errors to Sentry. `@sentry/nestjs` is an
 * optional peer dependency: it is loaded here, only when a DSN is configured, so an app without
 * Sentry never needs it installed.
 */
export class SentrySecurityEventSink implements SecurityEventSink {
  private readonly sentry: typeof SentrySdk;
  /** Per `type: rule` (names the code chooses, so the map stays small). */
  private readonly budgets = new Map<string, RuleBudget>();

  constructor(
    private readonly options: SentrySinkOptions,
    private readonly pseudonymizer: Pseudonymizer,
  ) {
    this.sentry = loadSentry();
    initSentry(this.sentry, options);
  }

  record(event: SecurityEvent): void {
    if (event.auditOnly || !this.withinBudget(`${event.type}: ${event.rule ?? 'default'}`)) return;
    const {
      securityEvent: _type,
      severity: _severity,
      rule: _rule,
      service: _service,
      ...extra
    } = securityEventReport(event, this.options.service, this.pseudonymizer);
    this.sentry.captureEvent({
      message: event.rule ? `${event.type}: ${event.rule}` : event.type,
      level: SENTRY_LEVEL[event.severity],
      // One Sentry issue per rule: a wave of attacks groups together instead of flooding.
      fingerprint: ['security-event', event.type, event.rule ?? 'default'],
      tags: { securityEvent: event.type, rule: event.rule ?? 'default', service: this.options.service },
      extra,
    });
  }

  captureException(error: unknown): void {
    this.sentry.captureException(error);
  }

  // On the monotonic clock: a wall clock stepped back must not hold a rule's events off for the step.
  private withinBudget(key: string): boolean {
    const now = performance.now();
    let budget = this.budgets.get(key);
    if (!budget) this.budgets.set(key, (budget = { minuteSince: now, inMinute: 0, daySince: now, inDay: 0 }));
    if (now - budget.minuteSince >= MINUTE_MS) Object.assign(budget, { minuteSince: now, inMinute: 0 });
    if (now - budget.daySince >= DAY_MS) Object.assign(budget, { daySince: now, inDay: 0 });
    if (budget.inMinute >= SENTRY_EVENTS_PER_RULE_PER_MINUTE || budget.inDay >= SENTRY_EVENTS_PER_RULE_PER_DAY) return false;
    budget.inMinute++;
    budget.inDay++;
    return true;
  }

  flush(timeoutMs: number): Promise<boolean> {
    return this.sentry.flush(timeoutMs);
  }
}

function loadSentry(): typeof SentrySdk {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@sentry/nestjs') as typeof SentrySdk;
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes("'@sentry/nestjs'")) {
      throw new Error('SENTRY_DSN is set but @sentry/nestjs is not installed: npm i @sentry/nestjs');
    }
    throw error;
  }
}

/**
 * Initialises the official SDK once per process (it keeps one client). Personal data is never sent
 * by default (`sendDefaultPii: false`), request bodies and cookies are stripped, no tracing.
 */
function initSentry(sentry: typeof SentrySdk, { dsn, service, environment }: SentrySinkOptions): void {
  if (sentry.getClient()) return;
  sentry.init({
    dsn,
    environment,
    serverName: service,
    sendDefaultPii: false,
    tracesSampleRate: 0,
    defaultIntegrations: false,
    transportOptions: { httpModule: sentryHttpModule(dsn) },
    beforeSend(event) {
      if (event.request) {
        delete event.request.data;
        delete event.request.cookies;
        if (event.request.headers) {
          delete event.request.headers.authorization;
          delete event.request.headers.cookie;
        }
      }
      return event;
    },
  });
}
