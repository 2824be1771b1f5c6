import { Inject, Injectable, Logger } from '@nestjs/common';

import { failureReason } from '@nest-hardening/errors';
import { SecurityEvents } from '@nest-hardening/security-events';

import { MemoryRateLimitStore } from './rate-limit.memory-store';
import { RateLimitMetrics } from './rate-limit.metrics';
import { RATE_LIMIT_MODULE_OPTIONS, type RateLimitModuleOptions } from './rate-limit.module-definition';
import { RedisOutageMonitor } from './rate-limit.outage-monitor';
import type { RedisErrorMode } from './rate-limit.policy';
import { RateLimitStore, type RateLimitCharge, type RateLimitDecision } from './rate-limit.store.interface';

/** A charge together with what its policy does while Redis is unavailable. */
export interface PolicyCharge extends RateLimitCharge {
  onRedisError: RedisErrorMode;
}

export type RateLimitVerdict =
  { kind: 'decided'; decision: RateLimitDecision; source: 'redis' | 'memory' } | { kind: 'unavailable'; retryAfterSec: number };

/**
 * Decides one request against its policies: Redis first; when Redis fails, fail-closed policies
 * refuse the request and memory policies are decided by the per-process fallback. The first denial
 * of a tracker's window is reported to SecurityEvents; every denial is counted in the metrics and
 * logged at debug level only, so a client over its budget does not choose how fast the log grows.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger('RateLimit');
  private readonly fallback: MemoryRateLimitStore;
  private readonly unavailableRetryAfterSec: number;

  constructor(
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    @Inject(RATE_LIMIT_MODULE_OPTIONS) options: RateLimitModuleOptions,
    private readonly outage: RedisOutageMonitor,
    private readonly metrics: RateLimitMetrics,
    private readonly events: SecurityEvents,
  ) {
    this.fallback = new MemoryRateLimitStore(options.memoryFallbackMaxEntries ?? 10_000);
    this.unavailableRetryAfterSec = options.unavailableRetryAfterSec ?? 30;
  }

  /**
   * One promise step per request on the common path (a Redis answer): this runs for every request,
   * and each extra async layer costs a promise and a microtask.
   */
  consume(charges: readonly PolicyCharge[], route: string): Promise<RateLimitVerdict> {
    let decided: Promise<RateLimitDecision>;
    try {
      // A PolicyCharge is a RateLimitCharge; stores copy only the charge fields into outcomes.
      decided = this.store.consume(charges);
    } catch (error) {
      decided = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return decided.then(
      (decision) => {
        if (decision.unreachable === undefined) this.outage.succeeded();
        else this.outage.failed(decision.unreachable);
        return this.recorded({ kind: 'decided', decision, source: 'redis' }, charges, route);
      },
      (error: unknown) => {
        this.outage.failed(error);
        return this.fallBack(charges, route);
      },
    );
  }

  /**
   * Moves an admitted request's refundable charges onto the malformed budget (see
   * `refundIfMalformed`). Best effort: a failure leaves the request charged as it was.
   */
  moveToMalformed(refunds: readonly PolicyCharge[], malformed: PolicyCharge): Promise<boolean> {
    if (!this.store.moveToMalformed) return Promise.resolve(false);
    return this.store.moveToMalformed(refunds, malformed).catch((error: unknown) => {
      this.logger.warn({ event: 'rate_limit_malformed_refund_failed', error: failureReason(error) });
      return false;
    });
  }

  /** Redis failed: fail-closed policies refuse the request, memory policies decide it in this process. */
  private async fallBack(charges: readonly PolicyCharge[], route: string): Promise<RateLimitVerdict> {
    if (charges.some((charge) => charge.onRedisError === 'fail-closed')) {
      return this.recorded({ kind: 'unavailable', retryAfterSec: this.unavailableRetryAfterSec }, charges, route);
    }
    this.metrics.memoryDecisions++;
    return this.recorded({ kind: 'decided', decision: await this.fallback.consume(charges), source: 'memory' }, charges, route);
  }

  /** Counts the verdict in the metrics and reports a denial; returns it unchanged. */
  private recorded(verdict: RateLimitVerdict, charges: readonly PolicyCharge[], route: string): RateLimitVerdict {
    if (verdict.kind === 'unavailable') {
      this.metrics.failedClosed++;
      for (const charge of charges) if (charge.onRedisError === 'fail-closed') this.metrics.countPolicy(charge.policy, 'unavailable');
    } else if (verdict.decision.admitted) {
      this.metrics.admitted++;
      for (const outcome of verdict.decision.outcomes) this.metrics.countPolicy(outcome.policy, 'admitted');
    } else {
      this.metrics.limited++;
      // All-or-nothing: only the policies that refused are counted; the others were not charged.
      for (const outcome of verdict.decision.outcomes) if (outcome.denied) this.metrics.countPolicy(outcome.policy, 'limited');
      this.reportDenial(verdict.decision, route);
    }
    return verdict;
  }

  private reportDenial(decision: RateLimitDecision, route: string): void {
    const denied = decision.outcomes.filter((outcome) => outcome.denied);
    const trackers = [...new Set(denied.map((outcome) => outcome.tracker))];
    // Trackers hold IPs and user ids: only their pseudonyms go to the log.
    this.logger.debug({
      event: 'rate_limit_denied',
      route,
      policies: denied.map((outcome) => outcome.policy).join(','),
      trackerPseudonyms: trackers.map((tracker) => this.events.pseudonymize(tracker)).join(','),
    });
    for (const outcome of denied) {
      if (!outcome.firstDenial) continue;
      this.events.emit({
        type: 'rate_limit_exceeded',
        severity: 'warning',
        rule: outcome.policy,
        pseudonymous: { tracker: outcome.tracker },
        details: {
          trackerKind: outcome.tracker.slice(0, outcome.tracker.indexOf(':')),
          limit: outcome.limit,
          windowSec: Math.ceil(outcome.ttlMs / 1000),
          route,
        },
      });
    }
  }
}
