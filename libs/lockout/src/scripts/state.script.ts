import { RedisScript } from '@nest-hardening/redis';

import { LOCKOUT_LUA_PRELUDE } from './prelude.script';

/**
 * Lua that collects an account's lockout state into a flat array (shared by the read and the
 * unlock script, so unlock returns exactly what it cleared). It reads at most `addrCap` addresses:
 * those of `seen`, then, while the legacy `addrs` set still exists, a sample of it.
 *
 * The pair keys of each address are declared by the caller, which reads the list just before (a
 * Redis Cluster refuses, or silently misses, keys a script computes while the account's slot is
 * being moved): ARGV `first`.. are addresses (17 on for the read, 18 on for the unlock), and KEYS
 * 9.. their pair keys, five per address in the order pending, failed, lock, level, evicted. An
 * address listed now but not declared (added since the caller's read) is left out: the state is a
 * snapshot, and an unlock voids its pair state through the unlock generation, as for any address it
 * does not list.
 *
 * Layout: {emailLockedUntil, emailFailures, emailPending, count, then per address:
 *          addressHash, lockedUntil, backoffLevel, failures, pending, lastSuccessAt, lastAttemptAt}
 * (lastAttemptAt 0 for an address of the legacy set), so lists read under two key secrets during a
 * rotation can be merged by recency.
 */
const collectStateLua = (first: number) => `
local declared = {}
for i = ${first}, #ARGV do declared[ARGV[i]] = 9 + (i - ${first}) * 5 end
local roles = {pending = 0, failed = 1, lock = 2, level = 3, evicted = 4}
local function pairKey(ah, role) return KEYS[declared[ah] + roles[role]] end
local function inWindow(key, window) return redis.call('ZCOUNT', key, '(' .. (now - window), '+inf') end
local members, listed = {}, {}
for _, ah in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, addrCap - 1)) do
  if declared[ah] then table.insert(members, ah) end
  listed[ah] = true
end
if #members < addrCap and redis.call('EXISTS', KEYS[6]) == 1 then
  for i = ${first}, #ARGV do
    local ah = ARGV[i]
    if #members < addrCap and not listed[ah] and redis.call('SISMEMBER', KEYS[6], ah) == 1 then
      listed[ah] = true
      table.insert(members, ah)
    end
  end
end
local state = {lockedUntil(KEYS[4]), tonumber(redis.call('GET', KEYS[3]) or '0'), inWindow(KEYS[2], emailWindow), #members}
for _, ah in ipairs(members) do
  table.insert(state, ah)
  table.insert(state, lockedUntil(pairKey(ah, 'lock')))
  table.insert(state, tonumber(redis.call('GET', pairKey(ah, 'level')) or '0'))
  table.insert(state, inWindow(pairKey(ah, 'failed'), pairWindow))
  table.insert(state, inWindow(pairKey(ah, 'pending'), pairWindow))
  table.insert(state, tonumber(redis.call('ZSCORE', KEYS[5], ah) or '0'))
  table.insert(state, tonumber(redis.call('ZSCORE', KEYS[1], ah) or '0'))
end
`;

/**
 * Reads an account's lockout state (at most `addressCap` addresses, the most recent). Writes nothing.
 *
 * KEYS: 1 seen addresses, 2 email pending, 3 email streak, 4 email lock, 5 known addresses,
 *       6 legacy address set, 7 unlock generation, 8 streak being moved, 9.. the pair keys of the
 *       addresses in ARGV 17.. (see collectStateLua)
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}, then 17.. the addresses the caller read
 *       from `seen` (and a sample of the legacy set).
 * Returns: the flat state array described above.
 */
export const READ_STATE_SCRIPT = new RedisScript(
  'lockout-state',
  `${LOCKOUT_LUA_PRELUDE}${collectStateLua(17)}
return state
`,
);

/**
 * Admin unlock and password-change reset: clears every lock, window and backoff level of an account
 * across all addresses, and returns the state it cleared. The listed addresses (at most `addressCap`)
 * are cleared here; pair state of every other address is voided by raising the unlock generation
 * (see addresses.lua.ts), so the script's work is bounded by the cap. The notification throttle is
 * kept, and address (spraying) blocks are not the account's to lift. Known addresses are kept by an
 * admin unlock; a password change forgets them (they proved a password that no longer opens the
 * account), in this same step, so a key-secret move copied before it merges none of them back.
 *
 * KEYS: as {@link READ_STATE_SCRIPT}
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}, then 17 `keep-known` or `forget-known`,
 *       18.. the addresses the caller read (as ARGV 17.. of {@link READ_STATE_SCRIPT}).
 * Returns: the flat state array as it was before the unlock.
 * Invariant: idempotent; after it, no lock of the account refuses a login and every count restarts
 *            at 0; the generation outlives every pair key it voids.
 */
export const UNLOCK_ACCOUNT_SCRIPT = new RedisScript(
  'lockout-unlock',
  `${LOCKOUT_LUA_PRELUDE}${collectStateLua(18)}
for _, ah in ipairs(members) do
  redis.call('DEL', pairKey(ah, 'pending'), pairKey(ah, 'failed'), pairKey(ah, 'lock'), pairKey(ah, 'level'), pairKey(ah, 'evicted'))
end
redis.call('INCR', KEYS[7])
if redis.call('PTTL', KEYS[7]) < addrTtl then redis.call('PEXPIRE', KEYS[7], addrTtl) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[8])
if ARGV[17] == 'forget-known' then redis.call('DEL', KEYS[5]) end
redis.call('UNLINK', KEYS[6])
return state
`,
);

/**
 * Reads an address's spraying budget. Writes nothing.
 *
 * KEYS: 1 ip pending, 2 ip failed, 3 ip block
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: {blockedUntil, failures, pending}
 */
export const READ_ADDRESS_STATE_SCRIPT = new RedisScript(
  'lockout-address-state',
  `${LOCKOUT_LUA_PRELUDE}
local function inWindow(key) return redis.call('ZCOUNT', key, '(' .. (now - ipWindow), '+inf') end
return {lockedUntil(KEYS[3]), inWindow(KEYS[2]), inWindow(KEYS[1])}
`,
);
