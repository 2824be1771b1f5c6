import { Injectable } from '@nestjs/common';

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
  /** Redis calls that failed (error or timeout). */
  redisErrors = 0;
  /** 1 while Redis is considered unavailable. */
  redisDown = 0;

  snapshot(): Readonly<Record<string, number>> {
    const { admitted, limited, failedClosed, memoryDecisions, redisErrors, redisDown } = this;
    return { admitted, limited, failedClosed, memoryDecisions, redisErrors, redisDown };
  }
}
