import { RedisScript } from '@nest-hardening/redis';

/**
 * Moves one request's charge from the budgets it spent onto the malformed-request budget of the
 * same tracker, once the request turned out malformed (answered 400, 413 or 415).
 *
 * KEYS: KEYS[1] = the `malformed` window counter; KEYS[2..n] = counters to give one unit back (same tracker, one slot).
 * ARGV: ARGV[1] = limit of the malformed budget, ARGV[2] = its window in ms.
 * Returns: 1 when moved, 0 when the malformed budget is spent (nothing changed: the request stays charged).
 * Invariant: the malformed counter never exceeds its limit through this script; a refunded counter
 *       never goes below zero and keeps its expiry; an expired counter is left alone.
 */
export const MOVE_TO_MALFORMED_SCRIPT = new RedisScript(
  'rate-limit-move-to-malformed',
  `
local limit = tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') + 1 > limit then
  return 0
end
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= 1 and redis.call('PTTL', KEYS[i]) > 0 then
    redis.call('DECR', KEYS[i])
  end
end
return 1
`,
);
