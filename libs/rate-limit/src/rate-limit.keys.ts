/**
 * Redis key layout of the rate limiter (every key also carries the client's global `keyPrefix`,
 * which ioredis adds; the names below are without it):
 *
 *   {rl:<tracker>}:<policy>            STRING  hits in the current fixed window; PEXPIRE = window end
 *                                              (`<policy>~<ttl>`: a route's own window of another length)
 *   {rl:<tracker>}:<policy>:reported   STRING  "1" once this window's first denial has been reported
 *
 * For a policy with `blockMs`, `:reported` also means "blocked": it is set when a denial starts a
 * block and expires with it (PEXPIRE = block end), and the counter is deleted at that moment.
 *
 * `<tracker>` is `ip:<address or IPv6 /64>`, `user:<id>`, `global:all` (one budget for every
 * client). The `{...}` hash tag covers the tracker only, so all policies of one
 * tracker live in one cluster slot and one script can check and charge them atomically.
 * `{`, `}` and `%` inside a tracker are percent-encoded so a chosen user id cannot end the hash tag early.
 *
 * `RedisThrottlerStorage` (the stock `ThrottlerStorage`) keeps its own layout, under its `keyPrefix`
 * (default `throttler:`), see {@link throttlerStorageKeys}.
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

/**
 * The window a charge of `policy` with `ttlMs` counts in when a route changed the window's length
 * (`<policy>~<ttl>`, its own), or undefined for the policy's shared window: no route may set the
 * length of the window the other routes share.
 */
export function overriddenWindow(policy: { name: string; ttlMs: number }, ttlMs: number): string | undefined {
  return ttlMs === policy.ttlMs ? undefined : `${policy.name}~${ttlMs}`;
}

/** The window a charge counts in: the policy's, unless a route changed its length. */
export function windowOf(charge: { policy: string; window?: string }): string {
  return charge.window ?? charge.policy;
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

export interface ThrottlerStorageKeys {
  record: string;
  hits: string;
}

/**
 * Keys of one stock throttler key (the output of `ThrottlerGuard.generateKey()`) in
 * `RedisThrottlerStorage`:
 *
 *   <keyPrefix>{<key>}                  HASH  the record shared by every throttler name of the key:
 *                                             exp, bexp (ms since epoch), blk (0/1), seq, hmax
 *   <keyPrefix>{<key>}:<throttlerName>  ZSET  one member per live hit, score = the hit's expiry (ms)
 *
 * Both keys are hash-tagged on the key, so one script call touches one cluster slot.
 */
export function throttlerStorageKeys(keyPrefix: string, key: string, throttlerName: string): ThrottlerStorageKeys {
  const record = `${keyPrefix}{${escapeTracker(key)}}`;
  return { record, hits: `${record}:${throttlerName}` };
}
