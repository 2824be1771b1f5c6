import { RedisScript } from '@nest-hardening/redis';

/**
 * Gives back a charge made by the consume script, when a request spanning several cluster slots
 * was admitted in one slot but denied in another.
 *
 * KEYS: window counters to refund (one slot).
 * ARGV: ARGV[1] = cost that was charged.
 * Returns: number of counters decremented.
 * Invariant: a counter never goes below zero and its expiry is untouched; an expired counter is
 *       left alone. Best effort: if the window rolled over between charge and refund and others
 *       already hit the new window, at most `cost` hits are returned to that new window.
 */
export const REFUND_RATE_LIMIT_SCRIPT = new RedisScript(
  'rate-limit-refund',
  `
local cost = tonumber(ARGV[1])
local refunded = 0
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= cost and redis.call('PTTL', KEYS[i]) > 0 then
    redis.call('DECRBY', KEYS[i], cost)
    refunded = refunded + 1
  end
end
return refunded
`,
);
