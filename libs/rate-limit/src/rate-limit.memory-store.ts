import { rateLimitKeys, windowOf } from './rate-limit.keys';
import type { RateLimitCharge, RateLimitDecision, RateLimitStore } from './rate-limit.store.interface';

interface Window {
  count: number;
  /** The window's end, or the block's end while `blocked`. */
  resetAt: number;
  reported: boolean;
  /** A block (see `blockMs`): every request is refused until `resetAt`, then a fresh window starts. */
  blocked: boolean;
}

/**
 * Per-process fixed-window limiter with the same all-or-nothing semantics as the Redis script:
 * the fallback while Redis is unavailable, and the store of `RateLimitModule.forRoot({ store:
 * 'memory' })` for unit tests without Redis. Not for production: each instance counts alone. No timers: an expired window is replaced when next seen.
 * Memory is capped at `maxEntries` windows; beyond that the least recently started window is
 * dropped (a Map iterates in insertion order, and a new window is re-inserted at the end).
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxEntries = 10_000,
    // Monotonic: a step of the wall clock (NTP) during an outage must not end windows early or stretch them.
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.windows.size;
  }

  async consume(charges: readonly RateLimitCharge[], cost = 1): Promise<RateLimitDecision> {
    const now = this.now();
    const current = charges.map((charge) => {
      const key = rateLimitKeys(charge.tracker, windowOf(charge)).counter;
      const window = this.windows.get(key);
      return { key, window: window && window.resetAt > now ? window : undefined };
    });
    const denied = charges.map((charge, i) => current[i].window?.blocked === true || (current[i].window?.count ?? 0) + cost > charge.limit);
    const admitted = !denied.includes(true);
    const outcomes = charges.map((charge, i) => {
      const { key } = current[i];
      let window = current[i].window;
      let firstDenial = false;
      if (admitted) {
        if (!window) window = this.start(key, now + charge.ttlMs);
        window.count += cost;
      } else if (window?.blocked) {
        return { ...this.blockedOutcome(charge, window, now), firstDenial: false };
      } else if (denied[i] && charge.blockMs) {
        window = this.start(key, now + charge.blockMs);
        window.blocked = window.reported = true;
        return { ...this.blockedOutcome(charge, window, now), firstDenial: true };
      } else if (denied[i]) {
        window ??= this.start(key, now + charge.ttlMs);
        firstDenial = !window.reported;
        window.reported = true;
      }
      return {
        policy: charge.policy,
        tracker: charge.tracker,
        limit: charge.limit,
        ttlMs: charge.ttlMs,
        count: window?.count ?? 0,
        resetMs: window ? window.resetAt - now : charge.ttlMs,
        denied: denied[i],
        firstDenial,
      };
    });
    return { admitted, outcomes };
  }

  /** A policy in a block: its whole limit spent until the block ends. */
  private blockedOutcome(charge: RateLimitCharge, window: Window, now: number) {
    const { policy, tracker, limit, ttlMs } = charge;
    return { policy, tracker, limit, ttlMs, count: limit, resetMs: window.resetAt - now, denied: true };
  }

  private start(key: string, resetAt: number): Window {
    this.windows.delete(key);
    while (this.windows.size >= this.maxEntries) {
      const oldest = this.windows.keys().next();
      if (oldest.done) break;
      this.windows.delete(oldest.value);
    }
    const window: Window = { count: 0, resetAt, reported: false, blocked: false };
    this.windows.set(key, window);
    return window;
  }
}
