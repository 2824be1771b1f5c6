import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Counter, Gauge, Registry } from 'prom-client';

import { LockoutMetrics } from '@nest-hardening/lockout';
import { RateLimitMetrics } from '@nest-hardening/rate-limit';
import { RefreshMetrics, RevocationFeedMetrics } from '@nest-hardening/sessions';

import { findOptionalProvider } from './optional-provider';

/**
 * Exposes the counters the security libraries keep (rate limiting, refresh rotation, lockout, the
 * revocation feed) as Prometheus series, read at scrape time. Only the libraries the app actually
 * runs get series.
 */
@Injectable()
export class SecurityMetricsCollector implements OnModuleInit {
  constructor(
    private readonly registry: Registry,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const rateLimit = findOptionalProvider(this.moduleRef, RateLimitMetrics);
    if (rateLimit) this.registerRateLimit(rateLimit);
    const refresh = findOptionalProvider(this.moduleRef, RefreshMetrics);
    if (refresh) this.registerRefresh(refresh);
    const lockout = findOptionalProvider(this.moduleRef, LockoutMetrics);
    if (lockout) this.registerLockout(lockout);
    const feed = findOptionalProvider(this.moduleRef, RevocationFeedMetrics);
    // The checker decides when constructed (before any module is initialised) whether it watches the
    // feed: a process that caches nothing (`cacheTtlMs` 0) has no feed, and a sample of 0 for it
    // would page someone for nothing.
    if (feed?.watched) this.registerRevocationFeed(feed);
  }

  private registerRateLimit(metrics: RateLimitMetrics): void {
    const registers = [this.registry];
    new Counter({
      name: 'rate_limit_decisions_total',
      help: 'Rate-limit decisions by policy and result (admitted; limited: this policy refused with 429; unavailable: fail-closed 503 while Redis was down).',
      labelNames: ['policy', 'result'],
      registers,
      collect() {
        this.reset();
        for (const [policy, counts] of metrics.byPolicy) {
          for (const [result, value] of Object.entries(counts)) this.inc({ policy, result }, value);
        }
      },
    });
    new Counter({
      name: 'rate_limit_requests_total',
      help: 'Requests that went through a rate-limit decision, by result (admitted, limited, unavailable).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'admitted' }, metrics.admitted);
        this.inc({ result: 'limited' }, metrics.limited);
        this.inc({ result: 'unavailable' }, metrics.failedClosed);
      },
    });
    new Counter({
      name: 'rate_limit_memory_decisions_total',
      help: 'Decisions made by the per-process in-memory fallback while Redis was unavailable.',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.memoryDecisions);
      },
    });
    new Counter({
      name: 'rate_limit_redis_errors_total',
      help: 'Rate-limit calls to Redis that failed (error or timeout).',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.redisErrors);
      },
    });
    new Gauge({
      name: 'rate_limit_redis_down',
      help: '1 while the rate limiter considers Redis unavailable (fail-closed policies refuse, the others use the memory fallback).',
      registers,
      collect() {
        this.set(metrics.redisDown);
      },
    });
  }

  private registerRefresh(metrics: RefreshMetrics): void {
    new Counter({
      name: 'refresh_token_outcomes_total',
      help: 'Refresh-token presentations by outcome: rotated, grace (concurrent replay), reuse (session revoked), fingerprint (revoked on mismatch), invalid (unknown or expired session), malformed.',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [outcome, value] of Object.entries(metrics.outcomes)) this.inc({ outcome }, value);
      },
    });
  }

  private registerLockout(metrics: LockoutMetrics): void {
    const registers = [this.registry];
    new Counter({
      name: 'lockout_locks_total',
      help: 'Login locks started, by rule (pair: email + address backoff, email_ceiling: per-account ceiling, ip_spraying: address blocked).',
      labelNames: ['rule'],
      registers,
      collect() {
        this.reset();
        for (const [rule, value] of Object.entries(metrics.locks)) this.inc({ rule }, value);
      },
    });
    new Counter({
      name: 'lockout_refused_total',
      help: 'Login attempts refused because a lock applied, by rule (pair, email, ip).',
      labelNames: ['rule'],
      registers,
      collect() {
        this.reset();
        for (const [rule, value] of Object.entries(metrics.refused)) this.inc({ rule }, value);
      },
    });
    new Counter({
      name: 'lockout_unlocks_total',
      help: 'Accounts unlocked by an administrator.',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.unlocks);
      },
    });
  }

  private registerRevocationFeed(metrics: RevocationFeedMetrics): void {
    const registers = [this.registry];
    new Gauge({
      name: 'revocation_feed_up',
      help: '1 while the revocation feed is trusted and "session is active" answers may be cached, 0 while it is lost (answers come from Redis only). Absent when the cache is off.',
      registers,
      collect() {
        this.set(metrics.up);
      },
    });
    new Counter({
      name: 'revocation_feed_losses_total',
      help: 'Revocation feed outages begun (connection closed, or the probe not heard back). Absent when the cache is off.',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.losses);
      },
    });
  }
}
