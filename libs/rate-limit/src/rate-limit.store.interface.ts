/** One policy window a request wants to spend from. */
export interface RateLimitCharge {
  policy: string;
  /** Tracker identity from `rate-limit.keys.ts` (`ip:...`, `user:...`). */
  tracker: string;
  limit: number;
  ttlMs: number;
  /** Once a request exceeds the limit, refuse every request for this long (then start afresh). Absent: no block. */
  blockMs?: number;
  /** The window's name when it is not the policy's own (a route that overrides the window length counts in a window of that length). */
  window?: string;
}

/** The state of one charged policy window after a decision. */
export interface RateLimitOutcome extends RateLimitCharge {
  /** Hits in the window after this decision (not counting a denied request); a blocked policy reports its whole limit. */
  count: number;
  /** Milliseconds until the window resets, or until the block ends. */
  resetMs: number;
  /** This policy alone would have been exceeded. */
  denied: boolean;
  /** The first denial of this policy window for this tracker (report it once). */
  firstDenial: boolean;
}

export interface RateLimitDecision {
  /** All charges were applied; when false, none was (all-or-nothing). */
  admitted: boolean;
  /** One outcome per charge, in the order given. */
  outcomes: RateLimitOutcome[];
  /**
   * Set when part of the store (a cluster node) failed while another part refused the request: the
   * refusal stands, and the failure is still an outage. The failed part's outcomes are not known
   * (reported as unspent and not denied).
   */
  unreachable?: unknown;
}

/**
 * Port of the rate-limit counter store: checks and charges every policy of one request as one
 * decision. Implementations: `RedisRateLimitStore` (shared, exact) and `MemoryRateLimitStore`
 * (per process, used while Redis is unavailable).
 */
export interface RateLimitStore {
  consume(charges: readonly RateLimitCharge[], cost?: number): Promise<RateLimitDecision>;
  /**
   * Gives back one unit of each of `refunds` (charged by an admitted request) and charges
   * `malformed` instead, unless that budget is spent; resolves to whether it did. Optional: a store
   * without it never gives a charge back.
   */
  moveToMalformed?(refunds: readonly RateLimitCharge[], malformed: RateLimitCharge): Promise<boolean>;
}
export const RateLimitStore = Symbol('RateLimitStore');
