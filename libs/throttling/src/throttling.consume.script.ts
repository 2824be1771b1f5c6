import { RedisScript } from '@lib/redis';

/**
 * Checks and charges the fixed-window policies of one or more requests in one atomic step. The
 * requests of a call are decided one after the other, each on its own (all-or-nothing per request),
 * exactly as if each had made its own call in that order: batching them only saves round trips.
 *
 * KEYS: pairs (window counter, "denial reported" marker), one pair per distinct window in the call
 *       (all keys of one call must share a cluster slot: they are hash-tagged per tracker).
 * ARGV: ARGV[1] = number of requests; then for each request: cost (hits it spends, >= 1), number of
 *       policies n, then n triples (pair index j: the window is KEYS[2j-1], KEYS[2j]; limit; window
 *       length in ms). Requests of one client share a pair, so a burst costs one key pair per call.
 * Returns: for each request: admitted (1|0), then per policy: count, msUntilReset, denied (1|0),
 *       firstDenial (1|0), where count is the window's hits after this request (unchanged when the
 *       request was not admitted).
 * Invariant: all-or-nothing per request. If any of its policies would exceed its limit, no counter
 *       changes, so a blocked client cannot keep extending its own count; otherwise every counter
 *       grows by cost. A window starts with the first admitted hit and ends PEXPIRE ms later (fixed
 *       window). firstDenial is 1 exactly once per policy window (SET NX on the marker, expiring with
 *       the window), so a flooding tracker is reported once per window across all processes.
 */
export const CONSUME_RATE_LIMIT_SCRIPT = new RedisScript(
  'rate-limit-consume',
  `
local requests = tonumber(ARGV[1])
local a = 2
local result = {}
for _ = 1, requests do
  local cost = tonumber(ARGV[a])
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  local keyAt, counts, ttls, denied = {}, {}, {}, {}
  local admitted = 1
  for i = 1, n do
    keyAt[i] = 2 * tonumber(ARGV[a + 3 * i - 3])
    local key = KEYS[keyAt[i] - 1]
    local limit = tonumber(ARGV[a + 3 * i - 2])
    local window = tonumber(ARGV[a + 3 * i - 1])
    local count = tonumber(redis.call('GET', key) or '0')
    local ttl = window
    if count > 0 then
      ttl = redis.call('PTTL', key)
      if ttl < 0 then
        -- A counter without expiry would block forever; give it a window again.
        redis.call('PEXPIRE', key, window)
        ttl = window
      end
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
  result[#result + 1] = admitted
  for i = 1, n do
    local key = KEYS[keyAt[i] - 1]
    local first = 0
    if admitted == 1 then
      local before = counts[i]
      counts[i] = redis.call('INCRBY', key, cost)
      if before == 0 then
        redis.call('PEXPIRE', key, tonumber(ARGV[a + 3 * i - 1]))
      end
    elseif denied[i] == 1 then
      if redis.call('SET', KEYS[keyAt[i]], '1', 'NX', 'PX', ttls[i]) then first = 1 end
    end
    result[#result + 1] = counts[i]
    result[#result + 1] = ttls[i]
    result[#result + 1] = denied[i]
    result[#result + 1] = first
  end
  a = a + 3 * n
end
return result
`,
);
