import { RedisScript } from '@nest-hardening/redis';

import { ADDRESS_TRACKING_LUA, VOID_STALE_PAIR_LUA } from './addresses.lua';
import { LOCKOUT_LUA_PRELUDE } from './prelude.script';
import { BIND_ACCOUNT_KEYS_LUA } from './reserve.lua';

const CONFIRM_HELPERS_LUA = `
-- A reservation counts only within its window, however long the window's key is kept alive by
-- later reservations: settled after it, it has dropped out as a crashed process's does.
local function confirm(pending, failed, window)
  redis.call('ZREMRANGEBYSCORE', pending, '-inf', now - window)
  if redis.call('ZREM', pending, rid) == 0 then return -1 end
  redis.call('ZADD', failed, now, rid)
  redis.call('ZREMRANGEBYSCORE', failed, '-inf', now - window)
  redis.call('PEXPIRE', failed, window)
  return redis.call('ZCARD', failed)
end

-- The window restarts after a lock, so the lock's end gives a fresh set of attempts.
local function startLock(lockKey, pending, failed, ms)
  redis.call('SET', lockKey, now + ms, 'PX', ms)
  redis.call('DEL', pending, failed)
end
`;

/**
 * Confirms a reserved attempt as a failed login in the account's slot and starts whichever account
 * lock its count reaches: the pair lock (with the next backoff level) and the account-wide ceiling
 * lock. The address's part is {@link CONFIRM_ADDRESS_FAILURE_SCRIPT}; the two are independent.
 * A confirmed failure records the address as seen again (it may have been dropped from the
 * bounded list while its password was checked), so its new pair state stays reachable by an unlock.
 *
 * KEYS: the account keys of {@link BIND_ACCOUNT_KEYS_LUA} (1-12, all `{e:<eh>}`)
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: `{pairLockMs, backoffLevel, emailLockMs}`; a value is 0 unless this call started that
 *          lock. Each lock is started by exactly one confirmation.
 * Invariant: a reservation counts at most once, and only within its window (it must still be
 *            pending: settling twice, or after a success reset, an unlock or its window, changes
 *            nothing); an existing lock is never extended or restarted; the account's failure streak
 *            is never reset here (only a successful login, a password change or an admin unlock reset it).
 */
export const CONFIRM_ACCOUNT_FAILURE_SCRIPT = new RedisScript(
  'lockout-failure-account',
  `${LOCKOUT_LUA_PRELUDE}${CONFIRM_HELPERS_LUA}${BIND_ACCOUNT_KEYS_LUA}${ADDRESS_TRACKING_LUA}${VOID_STALE_PAIR_LUA}
local result = {0, 0, 0}
local failures = confirm(pairPendingKey, pairFailedKey, pairWindow)
if failures >= 0 then trackAddress() end
if failures >= pairMax and redis.call('EXISTS', pairLockKey) == 0 then
  local level = redis.call('INCR', pairLevelKey)
  local ms = lockFor(level)
  -- The level decays backoffReset after the END of this lock, not after its start.
  redis.call('PEXPIRE', pairLevelKey, ms + backoffReset)
  startLock(pairLockKey, pairPendingKey, pairFailedKey, ms)
  result[1], result[2] = ms, level
end
-- Attempts from known addresses were never reserved against the account, so they do not count here.
local streak = -1
redis.call('ZREMRANGEBYSCORE', emailPendingKey, '-inf', now - emailWindow)
if redis.call('ZREM', emailPendingKey, rid) == 1 then
  streak = redis.call('INCR', emailStreakKey)
  redis.call('PEXPIRE', emailStreakKey, emailLock)
end
if streak >= emailMax and redis.call('EXISTS', emailLockKey) == 0 then
  redis.call('SET', emailLockKey, now + emailLock, 'PX', emailLock)
  result[3] = emailLock
end
return result
`,
);

/**
 * Confirms a reserved attempt as a failed login in the address's slot and starts the address
 * (spraying) block when its count reaches the maximum.
 *
 * KEYS: 1 ip pending, 2 ip failed, 3 ip block (all `{ip:<ah>}`)
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: the block duration in ms if this call started the block, else 0.
 * Invariant: as {@link CONFIRM_ACCOUNT_FAILURE_SCRIPT}: counted at most once, a block never extended.
 */
export const CONFIRM_ADDRESS_FAILURE_SCRIPT = new RedisScript(
  'lockout-failure-address',
  `${LOCKOUT_LUA_PRELUDE}${CONFIRM_HELPERS_LUA}
if confirm(KEYS[1], KEYS[2], ipWindow) >= ipMax and redis.call('EXISTS', KEYS[3]) == 0 then
  startLock(KEYS[3], KEYS[1], KEYS[2], ipBlock)
  return ipBlock
end
return 0
`,
);
