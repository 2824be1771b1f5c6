import { Injectable, Logger } from '@nestjs/common';

import { failureReason } from '@nest-hardening/errors';
import { SecurityEvents } from '@nest-hardening/security-events';

import { RateLimitMetrics } from './rate-limit.metrics';

/**
 * Tracks whether the rate limiter can reach Redis. Every request still tries Redis first (with the
 * offline queue off a down connection fails at once, a hung one after the command timeout), so
 * limiting resumes by itself with the first answer after an outage. Reports state changes only:
 * one security event when an outage starts, one log line when it ends.
 */
@Injectable()
export class RedisOutageMonitor {
  private readonly logger = new Logger('RateLimit');
  private down = false;
  private downSince = 0;

  constructor(
    private readonly events: SecurityEvents,
    private readonly metrics: RateLimitMetrics,
  ) {}

  get isDown(): boolean {
    return this.down;
  }

  failed(error: unknown): void {
    this.metrics.redisErrors++;
    if (this.down) return;
    this.down = true;
    this.downSince = Date.now();
    this.metrics.redisDown = 1;
    this.events.emit({
      type: 'rate_limit_redis_unavailable',
      severity: 'critical',
      details: { error: failureReason(error) },
    });
  }

  succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.metrics.redisDown = 0;
    this.logger.log({ event: 'rate_limit_redis_recovered', outageMs: Date.now() - this.downSince });
  }
}
