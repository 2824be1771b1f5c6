import { ADDRESS_TRACKING_LUA, VOID_STALE_PAIR_LUA } from './addresses.lua';

/**
 * Lua pieces of the reservation, shared by the one-script reservation (single Redis) and the
 * two per-slot steps (Redis Cluster), so both apply exactly the same rules. Each piece works on
 * named key locals that the script binds from its KEYS first:
 *   address: ipPendingKey, ipFailedKey, ipBlockKey
 *   account: pairPendingKey, pairFailedKey, pairLockKey, pairLevelKey, emailPendingKey,
 *            emailStreakKey, emailLockKey, knownKey, seenKey, legacyKey, pairEvictedKey, unlocksKey
 * They run after {@link LOCKOUT_LUA_PRELUDE}.
 */
export const RESERVE_HELPERS_LUA = `
local waitMs, reason = 0, ''
local function refuse(why, ms)
  if ms > waitMs then waitMs, reason = ms, why end
end

-- Entries older than the window no longer count: this also frees reservations of a crashed process.
local function used(pending, failed, window)
  redis.call('ZREMRANGEBYSCORE', pending, '-inf', now - window)
  redis.call('ZREMRANGEBYSCORE', failed, '-inf', now - window)
  return redis.call('ZCARD', pending) + redis.call('ZCARD', failed)
end

-- A full window still holds pending attempts that may all fail and start a lock of lockMs a moment
-- from now; announce that lock's end (plus a second for the verification in flight), not earlier.
local function fullWait(pending, failed, window, lockMs)
  local oldest = now
  for _, key in ipairs({pending, failed}) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] then oldest = math.min(oldest, tonumber(first[2])) end
  end
  return math.max(oldest + window - now, lockMs) + 1000
end

local function reserve(key, window)
  redis.call('ZADD', key, now, rid)
  redis.call('PEXPIRE', key, window)
end
`;

/** The address's spraying block and budget. */
export const ADDRESS_CHECK_LUA = `
refuse('ip', remaining(ipBlockKey))
if used(ipPendingKey, ipFailedKey, ipWindow) >= ipMax then
  refuse('ip', fullWait(ipPendingKey, ipFailedKey, ipWindow, ipBlock))
end
`;

/**
 * The pair lock and window, and (unless the address is known) the account lock and streak; sets
 * `exempt`. Pair state that an unlock voided is deleted first.
 */
export const ACCOUNT_CHECK_LUA = `${ADDRESS_TRACKING_LUA}${VOID_STALE_PAIR_LUA}
refuse('pair', remaining(pairLockKey))
local seen = redis.call('ZSCORE', knownKey, addr)
local exempt = seen ~= false and tonumber(seen) > now - knownTtl
if not exempt then refuse('email', remaining(emailLockKey)) end

if used(pairPendingKey, pairFailedKey, pairWindow) >= pairMax then
  local level = tonumber(redis.call('GET', pairLevelKey) or '0')
  refuse('pair', fullWait(pairPendingKey, pairFailedKey, pairWindow, lockFor(level + 1)))
end
if not exempt then
  -- The account ceiling counts failures since the last successful login, not per window.
  redis.call('ZREMRANGEBYSCORE', emailPendingKey, '-inf', now - emailWindow)
  local streak = tonumber(redis.call('GET', emailStreakKey) or '0')
  if streak >= emailMax then
    -- Reached: refused until the streak ends, which expires with the lock its last failure started.
    local left = redis.call('PTTL', emailStreakKey)
    refuse('email', left > 0 and left or emailLock + 1000)
  elseif streak + redis.call('ZCARD', emailPendingKey) >= emailMax then
    -- Pending attempts may reach it a moment from now and start a lock of emailLock.
    refuse('email', emailLock + 1000)
  end
end
`;

export const ADDRESS_RESERVE_LUA = `
reserve(ipPendingKey, ipWindow)
`;

export const ACCOUNT_RESERVE_LUA = `
reserve(pairPendingKey, pairWindow)
if not exempt then reserve(emailPendingKey, emailWindow) end
trackAddress()
`;

export const BIND_ADDRESS_KEYS_LUA = (first: number) => `
local ipPendingKey, ipFailedKey, ipBlockKey = KEYS[${first}], KEYS[${first + 1}], KEYS[${first + 2}]
`;

/** Binds the account keys, KEYS 1-12 in the order of `LockoutStore.accountKeys`. */
export const BIND_ACCOUNT_KEYS_LUA = `
local pairPendingKey, pairFailedKey, pairLockKey, pairLevelKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local emailPendingKey, emailStreakKey, emailLockKey = KEYS[5], KEYS[6], KEYS[7]
local knownKey, seenKey, legacyKey, pairEvictedKey, unlocksKey = KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]
`;
