import { RedisScript } from '@lib/redis';

/**
 * Checks and charges several fixed-window policies of one request in one atomic step.
 *
 * KEYS: for each policy i = 1..n: KEYS[2i-1] = window counter, KEYS[2i] = "denial reported" marker
 *       (all keys of one call must share a cluster slot: they are hash-tagged per tracker).
 * ARGV: ARGV[1] = cost (hits this request spends, >= 1); for each policy i:
 *       ARGV[2i] = limit, ARGV[2i+1] = window length in ms.
 * Returns: { admitted (1|0), then per policy i: count, msUntilReset, denied (1|0), firstDenial (1|0) }
 *       where count is the window's hits after this call (unchanged when not admitted).
 * Invariant: all-or-nothing. If any policy would exceed its limit, no counter changes, so a blocked
 *       client cannot keep extending its own count; otherwise every counter grows by cost. A window
 *       starts with the first admitted hit and ends PEXPIRE ms later (fixed window). firstDenial is 1
 *       exactly once per policy window (SET NX on the marker, expiring with the window), so a
 *       flooding tracker is reported once per window across all processes.
 */
export const CONSUME_RATE_LIMIT_SCRIPT = new RedisScript(
  'rate-limit-consume',
  `
local n = #KEYS / 2
local cost = tonumber(ARGV[1])
local counts, ttls, denied = {}, {}, {}
local admitted = 1
for i = 1, n do
  local key = KEYS[2 * i - 1]
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local count = tonumber(redis.call('GET', key) or '0')
  local ttl = redis.call('PTTL', key)
  if count > 0 and ttl < 0 then
    -- A counter without expiry would block forever; give it a window again.
    redis.call('PEXPIRE', key, window)
    ttl = window
  elseif ttl < 0 then
    ttl = window
  end
  counts[i] = count
  ttls[i] = ttl
  if count + cost > limit then
    denied[i] = 1
    admitted = 0
  else
    denied[i] = 0
  end
end
local result = { admitted }
for i = 1, n do
  local key = KEYS[2 * i - 1]
  local first = 0
  if admitted == 1 then
    local before = counts[i]
    counts[i] = redis.call('INCRBY', key, cost)
    if before == 0 then
      redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 1]))
      ttls[i] = tonumber(ARGV[2 * i + 1])
    end
  elseif denied[i] == 1 then
    if redis.call('SET', KEYS[2 * i], '1', 'NX', 'PX', ttls[i]) then first = 1 end
  end
  table.insert(result, counts[i])
  table.insert(result, ttls[i])
  table.insert(result, denied[i])
  table.insert(result, first)
end
return result
`,
);
