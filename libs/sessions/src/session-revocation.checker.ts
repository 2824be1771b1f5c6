import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';

import type { AuthenticatedUser, SessionValidator } from '@nest-hardening/auth';
import { wholeNumberProblem } from '@nest-hardening/errors';

import { ActiveSessionCache } from './active-session.cache';
import { RevocationFeedMetrics } from './revocation-feed-metrics';
import {
  MAX_PROBE_INTERVAL_MS,
  MIN_PROBE_INTERVAL_MS,
  SESSION_REVOCATION_MODULE_OPTIONS,
  type SessionRevocationModuleOptions,
} from './session-revocation.module-definition';
import { SessionStore } from './session.store';

/**
 * The revocation check behind every authenticated request, in every service: the token's session
 * must exist and the token must not be denylisted. One store call (one Redis round trip) per check.
 *
 * A positive answer may be reused for at most `cacheTtlMs` (<= 1 s). Every revocation is announced
 * by the store (on a Redis channel) and drops matching entries in every process at once; while the
 * announcements are known to be down nothing is cached (a lost connection, or the store's probe
 * message not coming back: a Redis Cluster client does not report its subscriber's loss, see
 * docs/decisions/003), and an answer computed while a revocation arrived is
 * not cached either, so a revoked session is refused everywhere within the TTL even if a message is lost.
 */
@Injectable()
export class SessionRevocationChecker implements SessionValidator, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SessionRevocationChecker.name);
  private readonly cache: ActiveSessionCache;
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private subscribed = false;
  private closed = false;
  /** A loss was logged: its end is logged once too (operators alert on the pair). */
  private outage = false;
  /** Bumped on every revocation message, subscription loss and recovery; a check that saw it change is not cached. */
  private epoch = 0;

  constructor(
    @Inject(SESSION_REVOCATION_MODULE_OPTIONS) private readonly options: SessionRevocationModuleOptions,
    private readonly store: SessionStore,
    // A default for direct construction (tests); the module provides the app's one.
    private readonly metrics: RevocationFeedMetrics = new RevocationFeedMetrics(),
  ) {
    // NaN passes any range comparison: as the TTL it turned the cache off unnoticed, as the size it
    // let the cache grow without bound.
    const { cacheMaxEntries, probeIntervalMs: probe } = options;
    const problem =
      wholeNumberProblem('cacheTtlMs', options.cacheTtlMs, 0, 1000) ??
      (cacheMaxEntries === undefined ? undefined : wholeNumberProblem('cacheMaxEntries', cacheMaxEntries, 1)) ??
      (probe === undefined ? undefined : wholeNumberProblem('probeIntervalMs', probe, MIN_PROBE_INTERVAL_MS, MAX_PROBE_INTERVAL_MS));
    if (problem) throw new Error(`SessionRevocationModule: ${problem}`);
    this.cache = new ActiveSessionCache(options.cacheMaxEntries ?? 10_000);
    // Without the cache there is no feed to watch, and no series for it.
    metrics.watched = options.cacheTtlMs > 0;
  }

  async onModuleInit(): Promise<void> {
    if (this.options.cacheTtlMs === 0) return;
    // While announcements may be missed (Redis reconnecting), nothing may be cached.
    await this.store.watchRevocations(
      {
        revoked: (message) => this.onRevocation(message),
        lost: (reason) => this.dropAll(reason),
        ready: (up) => {
          if (this.closed) return;
          if (up && this.outage) this.logger.log('revocation subscription back: caching answers again');
          if (up) this.outage = false;
          // A check asked while the feed was down may predate an announcement that was missed: its
          // answer must not be cached once the feed is up again.
          this.epoch++;
          this.trustFeed(up);
        },
      },
      { probeIntervalMs: this.options.probeIntervalMs },
    );
    this.trustFeed(!this.closed);
  }

  async onModuleDestroy(): Promise<void> {
    // Closing is not a lost subscription: no warning (operators alert on it), and none when the
    // subscriber's connection closes afterwards (nor a recovery after it).
    this.closed = true;
    this.trustFeed(false);
    this.dropAll();
  }

  /** Synchronous when a cached positive answer holds (the common path), a promise otherwise. */
  isActive(user: AuthenticatedUser): boolean | Promise<boolean> {
    // Keyed by the token id (the same string object on every request with one token, so its hash is
    // computed once), and bound to everything the answer depends on: a token id reused with another
    // session or user (which only a forger could produce) must not borrow a cached answer.
    const cached = this.cache.get(user.jti);
    if (cached && cached.userId === user.id && cached.sessionId === user.sessionId && cached.until > performance.now() && this.subscribed) {
      return true;
    }
    // Without the cache (and its revocation subscription) every request gets a check of its own.
    if (this.options.cacheTtlMs === 0 || !this.subscribed) return this.check(user);
    // Concurrent requests with one token share one Redis call (when a cached answer expires under
    // load, they would otherwise all ask at once). A revocation drops the shared call too.
    const cacheKey = `${user.id}|${user.sessionId}|${user.jti}`;
    let pending = this.inFlight.get(cacheKey);
    if (!pending) {
      pending = this.check(user).finally(() => {
        if (this.inFlight.get(cacheKey) === pending) this.inFlight.delete(cacheKey);
      });
      this.inFlight.set(cacheKey, pending);
    }
    return pending;
  }

  private async check(user: AuthenticatedUser): Promise<boolean> {
    const epoch = this.epoch;
    // The answer tells how the session was at some moment after this one: its reuse counts from here,
    // or a slow reply (or a busy event loop) would stretch the bound on an unannounced revocation.
    const askedAt = performance.now();
    const active = await this.store.isActive(user.id, user.sessionId, user.jti);
    if (active && this.options.cacheTtlMs > 0 && this.subscribed && epoch === this.epoch) {
      // On the monotonic clock: a wall clock stepped back (NTP) must not stretch the TTL, the bound
      // on how long a revocation whose announcement was lost goes unseen. Never past the token's expiry.
      this.cache.set(user.jti, {
        userId: user.id,
        sessionId: user.sessionId,
        until: Math.min(askedAt + this.options.cacheTtlMs, performance.now() + user.exp * 1000 - Date.now()),
      });
    }
    return active;
  }

  private onRevocation(message: string): void {
    this.epoch++;
    this.inFlight.clear();
    const id = message.slice(2);
    // Answers are keyed by token id: a denylisted token drops its own entry.
    if (message.startsWith('j:')) this.cache.dropToken(id);
    else if (message.startsWith('s:')) this.cache.dropSession(id);
  }

  private dropAll(reason?: string): void {
    if (this.subscribed) {
      this.outage = true;
      this.metrics.losses++;
      this.logger.warn(`revocation subscription lost${reason ? ` (${reason})` : ''}: answering from Redis only until it is back`);
    }
    this.trustFeed(false);
    this.epoch++;
    this.inFlight.clear();
    this.cache.clear();
  }

  /** The one place the feed's trust changes, so that `revocation_feed_up` always says what the cache does. */
  private trustFeed(up: boolean): void {
    this.subscribed = up;
    this.metrics.up = up ? 1 : 0;
  }
}
