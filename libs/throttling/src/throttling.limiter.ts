import { Inject, Injectable, Logger } from '@nestjs/common';
import { SecurityEvents } from '@lib/security-events';
import { THROTTLING_MODULE_OPTIONS, type ThrottlingModuleOptions } from './throttling.module-definition';
import { MemoryRateLimitStore } from './throttling.memory-store';
import { RateLimitMetrics } from './throttling.metrics';
import { RedisOutageMonitor } from './throttling.outage-monitor';
import type { RedisErrorMode } from './throttling.policy';
import { RateLimitStore, type RateLimitCharge, type RateLimitDecision } from './throttling.store.interface';

/** A charge together with what its policy does while Redis is unavailable. */
export interface PolicyCharge extends RateLimitCharge {
  onRedisError: RedisErrorMode;
}

export type RateLimitVerdict =
  | { kind: 'decided'; decision: RateLimitDecision; source: 'redis' | 'memory' }
  | { kind: 'unavailable'; retryAfterSec: number };

/**
 * Decides one request against its policies: Redis first; when Redis fails, fail-closed policies
 * refuse the request and memory policies are decided by the per-process fallback. Denials are
 * logged one line each; the first denial of a tracker's window is reported to SecurityEvents.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger('RateLimit');
  private readonly fallback: MemoryRateLimitStore;
  private readonly unavailableRetryAfterSec: number;

  constructor(
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    @Inject(THROTTLING_MODULE_OPTIONS) options: ThrottlingModuleOptions,
    private readonly outage: RedisOutageMonitor,
    private readonly metrics: RateLimitMetrics,
    private readonly events: SecurityEvents,
  ) {
    this.fallback = new MemoryRateLimitStore(options.memoryFallbackMaxEntries ?? 10_000);
    this.unavailableRetryAfterSec = options.unavailableRetryAfterSec ?? 30;
  }

  async consume(charges: readonly PolicyCharge[], route: string): Promise<RateLimitVerdict> {
    const verdict = await this.decide(charges);
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

  private async decide(charges: readonly PolicyCharge[]): Promise<RateLimitVerdict> {
    try {
      // A PolicyCharge is a RateLimitCharge; stores copy only the charge fields into outcomes.
      const decision = await this.store.consume(charges);
      this.outage.succeeded();
      return { kind: 'decided', decision, source: 'redis' };
    } catch (error) {
      this.outage.failed(error);
    }
    if (charges.some((charge) => charge.onRedisError === 'fail-closed')) {
      return { kind: 'unavailable', retryAfterSec: this.unavailableRetryAfterSec };
    }
    this.metrics.memoryDecisions++;
    return { kind: 'decided', decision: await this.fallback.consume(charges), source: 'memory' };
  }

  private reportDenial(decision: RateLimitDecision, route: string): void {
    const denied = decision.outcomes.filter((outcome) => outcome.denied);
    const trackers = [...new Set(denied.map((outcome) => outcome.tracker))];
    // Trackers hold IPs and user ids: only their pseudonyms go to the log.
    this.logger.warn({
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
