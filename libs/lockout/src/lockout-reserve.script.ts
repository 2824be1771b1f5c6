import { RedisScript } from '@lib/redis';
import { LOCKOUT_LUA_PRELUDE } from './lockout-prelude.script';

/**
 * Checks every lock that applies to one login attempt and, when none does, reserves the attempt as
 * a pending failure in the pair, account and address windows, in one step: concurrent logins cannot
 * all pass the check before any of them is counted (KC#31726, django-axes#592, CVE-2023-33170).
 *
 * KEYS: 1 pair pending, 2 pair failed, 3 pair lock, 4 pair level, 5 email pending, 6 email streak,
 *       7 email lock, 8 known addresses, 9 address set, 10 ip pending, 11 ip failed, 12 ip block
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: `{1, exempt}` when reserved (exempt = 1 if the address is known, so not counted against
 *          the account ceiling); `{0, waitMs, reason}` when refused (reason `pair`, `email` or `ip`,
 *          the rule with the latest end).
 * Invariant: in every window, pending + failed never exceeds its maximum, and for the account,
 *            pending + consecutive failures never exceeds the ceiling (NIST SP 800-63B: at most 100
 *            consecutive failures); a refused attempt is not counted and extends nothing; waitMs is
 *            never earlier than the end of any applying lock.
 */
export const RESERVE_LOGIN_SCRIPT = new RedisScript(
  'lockout-reserve',
  `${LOCKOUT_LUA_PRELUDE}
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

refuse('ip', remaining(KEYS[12]))
refuse('pair', remaining(KEYS[3]))
local seen = redis.call('ZSCORE', KEYS[8], addr)
local exempt = seen ~= false and tonumber(seen) > now - knownTtl
if not exempt then refuse('email', remaining(KEYS[7])) end

if used(KEYS[1], KEYS[2], pairWindow) >= pairMax then
  local level = tonumber(redis.call('GET', KEYS[4]) or '0')
  refuse('pair', fullWait(KEYS[1], KEYS[2], pairWindow, lockFor(level + 1)))
end
if not exempt then
  -- The account ceiling counts failures since the last successful login, not per window.
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - emailWindow)
  local streak = tonumber(redis.call('GET', KEYS[6]) or '0')
  if streak + redis.call('ZCARD', KEYS[5]) >= emailMax then refuse('email', emailLock + 1000) end
end
if used(KEYS[10], KEYS[11], ipWindow) >= ipMax then
  refuse('ip', fullWait(KEYS[10], KEYS[11], ipWindow, ipBlock))
end
if waitMs > 0 then return {0, math.ceil(waitMs), reason} end

local function reserve(key, window)
  redis.call('ZADD', key, now, rid)
  redis.call('PEXPIRE', key, window)
end
reserve(KEYS[1], pairWindow)
if not exempt then reserve(KEYS[5], emailWindow) end
reserve(KEYS[10], ipWindow)
redis.call('SADD', KEYS[9], addr)
redis.call('PEXPIRE', KEYS[9], addrTtl)
if exempt then return {1, 1} end
return {1, 0}
`,
);
