import { Injectable } from '@nestjs/common';

/** How a request fared against one policy: charged, refused by it, or refused because Redis was down (fail-closed). */
export type RateLimitPolicyResult = 'admitted' | 'limited' | 'unavailable';

/**
 * Process-local counters for the apps' metrics endpoint (read them into prom-client gauges or
 * counters). Plain numbers: incrementing them costs nothing on the request path.
 */
@Injectable()
export class RateLimitMetrics {
  /** Requests admitted after a rate-limit decision. */
  admitted = 0;
  /** Requests refused with 429. */
  limited = 0;
  /** Requests refused with 503 because a fail-closed policy could not reach Redis. */
  failedClosed = 0;
  /** Decisions made by the in-memory fallback while Redis was unavailable. */
  memoryDecisions = 0;
  /** Decisions whose Redis call failed (error or timeout); requests batched into one call count once each. */
  redisErrors = 0;
  /** 1 while Redis is considered unavailable. */
  redisDown = 0;
  /** Decisions by policy name and result (policies are configured, so the set is bounded). */
  readonly byPolicy = new Map<string, Record<RateLimitPolicyResult, number>>();

  countPolicy(policy: string, result: RateLimitPolicyResult): void {
    let counts = this.byPolicy.get(policy);
    if (!counts) this.byPolicy.set(policy, (counts = { admitted: 0, limited: 0, unavailable: 0 }));
    counts[result]++;
  }

  snapshot(): Readonly<Record<string, number>> {
    const { admitted, limited, failedClosed, memoryDecisions, redisErrors, redisDown } = this;
    return { admitted, limited, failedClosed, memoryDecisions, redisErrors, redisDown };
  }
}
