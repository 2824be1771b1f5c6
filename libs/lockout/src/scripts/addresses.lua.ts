/**
 * Lua pieces that keep an account's list of addresses bounded without unlocking anyone.
 *
 * `seen` holds at most `addrCap` addresses (the most recent attempts); admin state and unlock read
 * only those. An address dropped from it keeps its pair keys, which the reservation checks
 * directly, so dropping never lifts a lock. What an unlock must still reach is found through the
 * account's unlock generation instead: pair state of an address that is neither in `seen` (or the
 * legacy `addrs` set) nor stamped, when it was dropped, with the current generation, predates the
 * last unlock and is void ({@link VOID_STALE_PAIR_LUA}).
 *
 * Invariant: every address with pair state written since the last unlock is in `seen`, in the
 * legacy set, or stamped with the current generation, and the stamp and the generation live at
 * least as long as that state.
 *
 * They use the key locals seenKey, legacyKey, pairEvictedKey, unlocksKey, pairPendingKey,
 * pairFailedKey, pairLockKey, pairLevelKey and run after {@link LOCKOUT_LUA_PRELUDE}.
 */
export const ADDRESS_TRACKING_LUA = `
local generation = tonumber(redis.call('GET', unlocksKey) or '0')

local function longestTtl(keys)
  local longest = 0
  for _, key in ipairs(keys) do longest = math.max(longest, redis.call('PTTL', key)) end
  return longest
end

-- Stamps an address's pair state, dropped from seen, with the current generation for as long as it lives.
local function stampEvicted(pair)
  -- Before any unlock (generation 0) no stamp is needed: a later unlock voids this state anyway.
  if generation == 0 then return end
  local ttl = longestTtl({pair .. 'pending', pair .. 'failed', pair .. 'lock', pair .. 'level'})
  if ttl > 0 then
    redis.call('SET', pair .. 'evicted', generation, 'PX', ttl)
    if redis.call('PTTL', unlocksKey) < ttl then redis.call('PEXPIRE', unlocksKey, ttl) end
  end
end

-- Records the attempt of addr, now or, for state a key-secret rotation moves, at its last attempt
-- under the old names (so it does not push more recent addresses out); drops addresses unseen for
-- addrTtl (their pair keys have expired) and then the oldest beyond the cap, stamping those that
-- still have pair state written since an unlock.
local function trackAddress(at)
  if at then redis.call('ZADD', seenKey, 'GT', at, addr) else redis.call('ZADD', seenKey, now, addr) end
  redis.call('DEL', pairEvictedKey)
  redis.call('ZREMRANGEBYSCORE', seenKey, '-inf', now - addrTtl)
  local over = redis.call('ZCARD', seenKey) - addrCap
  if over > 0 then
    local base = string.sub(seenKey, 1, -6)
    for _, ah in ipairs(redis.call('ZRANGE', seenKey, 0, over - 1)) do stampEvicted(base .. ':pair:' .. ah .. ':') end
    redis.call('ZREMRANGEBYRANK', seenKey, 0, over - 1)
  end
  redis.call('PEXPIRE', seenKey, addrTtl)
end
`;

/** Deletes the pair state of addr when an unlock since its last attempt voided it (see above). */
export const VOID_STALE_PAIR_LUA = `
if generation > 0 and not redis.call('ZSCORE', seenKey, addr) and redis.call('SISMEMBER', legacyKey, addr) == 0
  and tonumber(redis.call('GET', pairEvictedKey) or '-1') ~= generation then
  redis.call('DEL', pairPendingKey, pairFailedKey, pairLockKey, pairLevelKey, pairEvictedKey)
end
`;
