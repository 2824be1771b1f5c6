/**
 * Redis key layout of the rate limiter (every key also carries the client's global `keyPrefix`,
 * which ioredis adds; the names below are without it):
 *
 *   {rl:<tracker>}:<policy>            STRING  hits in the current fixed window; PEXPIRE = window end
 *   {rl:<tracker>}:<policy>:reported   STRING  "1" once this window's first denial has been reported
 *
 * `<tracker>` is `ip:<address or IPv6 /64>`, `user:<id>`, `global:all` (one budget for every
 * client) or, for the stock `increment()` API,
 * `key:<stock throttler key>`. The `{...}` hash tag covers the tracker only, so all policies of one
 * tracker live in one cluster slot and one script can check and charge them atomically.
 * `{`, `}` and `%` inside a tracker are percent-encoded so a chosen user id cannot end the hash tag early.
 */
export interface RateLimitKeys {
  counter: string;
  reported: string;
}

function escapeTracker(tracker: string): string {
  return tracker.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The keys of one policy's window for one tracker. */
export function rateLimitKeys(tracker: string, policy: string): RateLimitKeys {
  const base = `{rl:${escapeTracker(tracker)}}:${policy}`;
  return { counter: base, reported: `${base}:reported` };
}

/** Tracker identity of an IP rate-limit key (`rateLimitIpKey()` output). */
export function ipTracker(ipKey: string): string {
  return `ip:${ipKey}`;
}

/** Tracker identity of a verified user. */
export function userTracker(userId: string): string {
  return `user:${userId}`;
}

/** Tracker identity of a budget shared by every client. */
export const GLOBAL_TRACKER = 'global:all';

/** Tracker identity for a key produced by the stock `ThrottlerGuard.generateKey()`. */
export function stockKeyTracker(key: string): string {
  return `key:${key}`;
}
